using System.Runtime.InteropServices;

namespace Sensor.Outputs.EventLog;

/// <summary>
/// File descriptor 1, written with write(2). Not <see cref="Console.OpenStandardOutput()"/>: .NET's
/// console stream treats EPIPE as success, so `sensor read big.pcap | head -1` would analyse the whole
/// capture into a closed pipe and exit 0. Not a FileStream either: on a seekable stdout it writes with
/// pwrite at its own offset and never moves the descriptor's, so `{ sensor read F; echo done; } > out`
/// would have the echo overwrite the findings.
/// </summary>
public sealed class StandardOutput(int bufferBytes = 64 * 1024) : EventOutput
{
    private const int StdoutFd = 1;
    private const int EINTR = 4;
    private const int EAGAIN = 11;
    private readonly byte[] _buffer = new byte[bufferBytes];
    private int _used;

    public override string Name => "standard output";

    public override bool Buffers => true;

    public override bool Fits(int bytes) => bytes <= _buffer.Length - _used;

    public override void Append(ReadOnlySpan<byte> line)
    {
        if (!Fits(line.Length)) Flush();
        if (line.Length > _buffer.Length)
        {
            WriteAll(line);
            return;
        }
        line.CopyTo(_buffer.AsSpan(_used));
        _used += line.Length;
    }

    public override void Flush()
    {
        if (_used == 0) return;
        int n = _used;
        _used = 0; // a failed write loses what it held: the caller counts it
        WriteAll(_buffer.AsSpan(0, n));
    }

    private static unsafe void WriteAll(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint rc = write(StdoutFd, p + done, data.Length - done);
                if (rc >= 0)
                {
                    done += (int)rc;
                    continue;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                if (errno == EAGAIN)
                {
                    // A non-blocking stdout (inherited from a parent) that is full: wait, do not drop.
                    Thread.Sleep(1);
                    continue;
                }
                throw new IOException(Marshal.GetPInvokeErrorMessage(errno), errno);
            }
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe nint write(int fd, byte* buffer, nint count);
}

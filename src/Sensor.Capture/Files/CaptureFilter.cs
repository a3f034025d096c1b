using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using PacketDotNet;

namespace Sensor.Capture.Files;

/// <summary>
/// `sensor read F 'port 143'`: a BPF filter compiled by libpcap's own compiler (pcap-filter(7), the
/// language tcpdump users know) and run over each frame with pcap_offline_filter, as `tcpdump -r F
/// EXPR` does. Compiled once per link type (files may differ); running a compiled program touches no
/// shared state, so the workers of a parallel read share it. Frames it rejects are counted.
/// </summary>
public sealed unsafe class CaptureFilter : IDisposable
{
    private const uint NetmaskUnknown = 0xffffffff; // PCAP_NETMASK_UNKNOWN: only matters to "broadcast"
    private readonly ConcurrentDictionary<LinkLayers, Program> _programs = new();
    private long _rejected;

    /// <summary>struct bpf_program: u_int bf_len; struct bpf_insn *bf_insns.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct BpfProgram
    {
        public uint Length;
        public IntPtr Instructions;
    }

    /// <summary>struct pcap_pkthdr on 64-bit Linux: struct timeval, caplen, len.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PacketHeader
    {
        public long Seconds;
        public long Microseconds;
        public uint CapturedLength;
        public uint WireLength;
    }

    private sealed class Program(BpfProgram code)
    {
        public BpfProgram Code = code;
    }

    private CaptureFilter(string expression) => Expression = expression;

    public string Expression { get; }

    /// <summary>Set when frames of a link type the filter cannot compile for were left out (each is counted).</summary>
    public string? Unusable { get; private set; }

    /// <summary>Frames the filter did not match.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Compiles the expression for Ethernet to check it; null and a message (libpcap's) when it is wrong.</summary>
    public static CaptureFilter? Create(string expression, out string? error)
    {
        var filter = new CaptureFilter(expression);
        error = filter.Compile(LinkLayers.Ethernet, out _);
        if (error is null) return filter;
        filter.Dispose();
        return null;
    }

    /// <summary>Null when the filter can run on this link type, else why not.</summary>
    public string? Prepare(LinkLayers link) => Compile(link, out _);

    /// <param name="count">Count a rejection (readers sharing frames count each frame once).</param>
    public bool Matches(LinkLayers link, ReadOnlySpan<byte> frame, int wireLength, bool count = true)
    {
        if (!_programs.TryGetValue(link, out var program) && Compile(link, out program) is { } error)
        {
            Unusable ??= $"the filter cannot run on link type {(int)link} ({link}): {error}";
            if (count) Interlocked.Increment(ref _rejected);
            return false;
        }
        var header = new PacketHeader { CapturedLength = (uint)frame.Length, WireLength = (uint)wireLength };
        int verdict;
        fixed (byte* data = frame)
        fixed (BpfProgram* code = &program!.Code)
            verdict = pcap_offline_filter(code, &header, data);
        if (verdict != 0) return true;
        if (count) Interlocked.Increment(ref _rejected);
        return false;
    }

    private string? Compile(LinkLayers link, out Program? program)
    {
        program = null;
        if (_programs.TryGetValue(link, out program)) return null;
        IntPtr dead;
        try
        {
            dead = pcap_open_dead((int)link, 262_144);
        }
        catch (DllNotFoundException)
        {
            return "libpcap is not installed (Debian: apt-get install libpcap0.8)";
        }
        if (dead == IntPtr.Zero) return $"libpcap cannot filter link type {(int)link}";
        try
        {
            var code = new BpfProgram();
            if (pcap_compile(dead, &code, Expression, 1, NetmaskUnknown) != 0)
                return Marshal.PtrToStringUTF8(pcap_geterr(dead)) ?? "invalid filter";
            program = _programs.GetOrAdd(link, new Program(code));
            return null;
        }
        finally
        {
            pcap_close(dead);
        }
    }

    public void Dispose()
    {
        foreach (var p in _programs.Values)
            fixed (BpfProgram* code = &p.Code) pcap_freecode(code);
        _programs.Clear();
    }

    private const string LibPcap = "libpcap.so.0.8";

    [DllImport(LibPcap)] private static extern IntPtr pcap_open_dead(int linktype, int snaplen);
    [DllImport(LibPcap)] private static extern int pcap_compile(IntPtr pcap, BpfProgram* program, [MarshalAs(UnmanagedType.LPUTF8Str)] string expression, int optimize, uint netmask);
    [DllImport(LibPcap)] private static extern int pcap_offline_filter(BpfProgram* program, PacketHeader* header, byte* data);
    [DllImport(LibPcap)] private static extern void pcap_freecode(BpfProgram* program);
    [DllImport(LibPcap)] private static extern IntPtr pcap_geterr(IntPtr pcap);
    [DllImport(LibPcap)] private static extern void pcap_close(IntPtr pcap);
}

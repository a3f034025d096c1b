using System.Runtime.InteropServices;
using PacketDotNet;
using SharpPcap;
using SharpPcap.LibPcap;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;

namespace Sensor.Capture.Live;

/// <summary>
/// Captures from a live interface with libpcap, not in immediate mode: libpcap then uses the kernel's
/// TPACKET_V3 ring, where the kernel fills whole blocks of frames and hands a block over when it is
/// full or when the read timeout (100 ms) retires it, so a busy link costs one wake-up per block
/// instead of one per frame (immediate mode falls back to frame-at-a-time TPACKET_V2: measured with
/// bench/soak.sh, 648 kernel drops at 50,000 packets/s with it, none at 100,000 without). A login on
/// a quiet link is therefore seen within the timeout, well inside the one second the live test allows.
/// A quiet link still advances the clock that expires idle flows. One thread reads and hands each
/// frame on (to one pipeline, or to the live workers); nothing on this path waits on I/O other than
/// the capture itself.
/// </summary>
public sealed class LiveCaptureSource : IDisposable
{
    /// <summary>The TPACKET_V3 block retire timeout: the longest a frame waits in a block not yet full.</summary>
    private const int ReadTimeoutMs = 100;
    private const long BusyTickNs = 20_000_000;
    /// <summary>The most often the ring running dry hands the waiting frames on (wall clock).</summary>
    private const long HandOverMs = 20;
    private readonly CaptureSettings _settings;
    private LibPcapLiveDevice? _device;
    private long _baseReceived, _baseDropped, _baseIfDropped;
    private int _selectableFd = -1;
    private volatile bool _open;
    private readonly TestFault? _fault = TestFault.Armed is { Where: TestFault.Site.CaptureThread } f ? f : null;

    public LiveCaptureSource(CaptureSettings settings) => _settings = settings;

    public CaptureStatistics Statistics { get; } = new();
    public string InterfaceName => _settings.Interface;
    /// <summary>The interface, with its fanout group when there is one.</summary>
    public string Description => _settings.Description;
    public LinkLayers LinkType { get; private set; }

    /// <summary>True while libpcap has the interface open (read from other threads by health reporting).</summary>
    public bool IsOpen => _open;

    /// <summary>
    /// Checks the filter, then opens the interface; throws <see cref="CaptureDeviceException"/> with
    /// a clear message and the kind of problem.
    /// </summary>
    public void Open()
    {
        CheckFilter(); // first: a bad filter is a usage error whether or not the interface is there yet
        var device = CaptureInterfaces.Find(_settings.Interface)
            ?? throw new CaptureDeviceException($"no capture interface named '{_settings.Interface}' (see 'sensor interfaces')", CaptureProblem.NoSuchInterface);
        try
        {
            device.Open(new DeviceConfiguration
            {
                Mode = _settings.Promiscuous ? DeviceModes.Promiscuous : DeviceModes.None,
                Snaplen = _settings.SnapLength,
                ReadTimeout = ReadTimeoutMs,
                Immediate = false,
                BufferSize = _settings.BufferSizeMiB * 1024 * 1024,
                TimestampResolution = TimestampResolution.Nanosecond,
            });
        }
        catch (PcapException e)
        {
            throw Explain(e);
        }
        try
        {
            if (_settings.EffectiveFilter is { } filter) device.Filter = filter;
        }
        catch (PcapException e)
        {
            device.Close();
            throw InvalidFilter(e.Message, e);
        }
        if (_settings.FanoutGroup is { } group)
        {
            // Once the socket is bound and filtered: from the join on, the kernel gives it only its share.
            try
            {
                PacketFanout.Join(PcapNative.Fileno(device.Handle), group, _settings.Interface);
            }
            catch (CaptureDeviceException)
            {
                device.Close();
                throw;
            }
        }
        device.NonBlockingMode = true;
        _selectableFd = PcapNative.SelectableFd(device.Handle);
        LinkType = device.LinkType;
        if (!FrameDecoder.IsSupported(LinkType))
        {
            device.Close();
            throw new CaptureDeviceException($"interface '{_settings.Interface}' has link type {(int)LinkType} ({LinkType}), which the sensor cannot decode",
                CaptureProblem.UnsupportedLinkType);
        }
        _device = device;
        _baseReceived = Statistics.Received;
        _baseDropped = Statistics.DroppedByKernel;
        _baseIfDropped = Statistics.DroppedByInterface;
        _open = true;
    }

    /// <summary>
    /// Compiles the filter for Ethernet without any interface (pcap_open_dead), so a typo is found
    /// at once, needs no capture permission, and is not mistaken for a missing interface. The
    /// interface's own link type is checked again when it opens.
    /// </summary>
    private void CheckFilter()
    {
        if (_settings.EffectiveFilter is null) return;
        bool valid;
        string? error;
        try
        {
            valid = PcapDevice.CheckFilter(_settings.EffectiveFilter, out error);
        }
        catch (Exception e) when (e is DllNotFoundException || e.InnerException is DllNotFoundException)
        {
            throw new CaptureDeviceException("libpcap is not installed (Debian: apt-get install libpcap0.8)", CaptureProblem.LibpcapMissing, e);
        }
        if (!valid) throw InvalidFilter(error);
    }

    /// <summary>
    /// Names the setting as the user wrote it: only --filter (Capture:Filter) can be wrong, a filter
    /// built from --ports always compiles.
    /// </summary>
    private CaptureDeviceException InvalidFilter(string? libpcapMessage, Exception? inner = null) =>
        new($"--filter (Capture:Filter) '{_settings.EffectiveFilter}' is not a valid BPF filter: {(string.IsNullOrWhiteSpace(libpcapMessage) ? "libpcap gave no reason" : libpcapMessage.Trim())}",
            CaptureProblem.InvalidFilter, inner);

    /// <summary>
    /// Reads until <paramref name="stop"/> is cancelled or the device fails. <paramref name="onIdle"/>
    /// gets the wall clock (ns) whenever nothing is ready to read, and on a busy link the packet time
    /// about once a second.
    /// </summary>
    public void Run(CaptureFileSource.FrameHandler onFrame, Action<long> onIdle, CancellationToken stop)
    {
        var device = _device ?? throw new InvalidOperationException("Open first");
        // One reference on libpcap's handle for the whole loop, not one per frame (see PcapNative).
        bool referenced = false;
        device.Handle.DangerousAddRef(ref referenced);
        try
        {
            Read(device, device.Handle.DangerousGetHandle(), onFrame, onIdle, stop);
        }
        finally
        {
            if (referenced) device.Handle.DangerousRelease();
        }
    }

    private unsafe void Read(LibPcapLiveDevice device, IntPtr pcap, CaptureFileSource.FrameHandler onFrame, Action<long> onIdle, CancellationToken stop)
    {
        IntPtr header = IntPtr.Zero, data = IntPtr.Zero;
        long lastIdle = 0;
        long lastHandOver = Environment.TickCount64 - HandOverMs;
        bool direct = PcapNative.HasNextEx;
        while (!stop.IsCancellationRequested)
        {
            int rc = direct ? PcapNative.NextEx(pcap, &header, &data) : device.GetNextPacketPointers(ref header, ref data);
            if (rc == 1)
            {
                CaptureFileSource.ReadHeader(header, out long ts, out int capLen, out int wireLen);
                // A view of libpcap's buffer: valid until the next read, which is all the pipeline needs.
                onFrame(LinkType, new ReadOnlySpan<byte>((void*)data, Math.Min(capLen, CaptureFileSource.MaxFrame)), wireLen, ts);
                // A busy link never lets the ring run dry, so the clock ticks here too: idle expiry, and
                // the analysis workers' part-filled batches handed over. Once a second left a login
                // on a quiet shard waiting up to a second (bench/soak.sh p99 1.2-1.6 s); every 20 ms
                // costs a few list-head checks and, with workers, one batch hand-over each.
                if (ts - lastIdle > BusyTickNs)
                {
                    lastIdle = ts;
                    lastHandOver = Environment.TickCount64;
                    onIdle(ts);
                }
                continue;
            }
            if (rc == 0)
            {
                // The ring ran dry. On a busy link that happens at every block boundary (hundreds of
                // times a second: the kernel hands a block over only when it is full or retired), so
                // the idle work (the clock, the workers' part-filled batches) is done at most every
                // HandOverMs; the wait is cut short so that it is never later than that.
                long sinceHandOver = Environment.TickCount64 - lastHandOver;
                if (sinceHandOver >= HandOverMs)
                {
                    _fault?.ThrowIfDue();
                    lastHandOver = Environment.TickCount64;
                    onIdle(DateTime.UtcNow.Ticks * 100 - DateTime.UnixEpoch.Ticks * 100);
                    PcapNative.Wait(_selectableFd, ReadTimeoutMs);
                }
                else
                {
                    PcapNative.Wait(_selectableFd, (int)(HandOverMs - sinceHandOver));
                }
                continue;
            }
            var error = device.LastError;
            throw new CaptureDeviceException($"capture on '{_settings.Interface}' failed: {(string.IsNullOrEmpty(error) ? "device closed" : error)}", CaptureProblem.ReadFailed);
        }
    }

    /// <summary>Reads libpcap's counters (pcap_stats); call on the capture thread, handles are not thread-safe.</summary>
    public void RefreshStatistics()
    {
        if (_device is null || !PcapNative.Stats(_device.Handle, out var s)) return;
        // u_int counters: they wrap at 2^32 on very long runs, as libpcap's own do.
        Statistics.Received = _baseReceived + s.Received;
        Statistics.DroppedByKernel = _baseDropped + s.Dropped;
        Statistics.DroppedByInterface = _baseIfDropped + s.InterfaceDropped;
    }

    public void Close()
    {
        if (_device is null) return;
        _open = false;
        RefreshStatistics();
        try { _device.Close(); } catch (PcapException) { }
        _device = null;
    }

    public void Dispose() => Close();

    private CaptureDeviceException Explain(PcapException e)
    {
        var m = e.Message;
        if (m.Contains("ermission", StringComparison.Ordinal) || m.Contains("not permitted", StringComparison.Ordinal))
            return new CaptureDeviceException(
                $"permission denied opening '{_settings.Interface}': capturing needs CAP_NET_RAW (run as root, or see the README's systemd unit)", CaptureProblem.PermissionDenied, e);
        if (m.Contains("No such device", StringComparison.Ordinal) || m.Contains("doesn't exist", StringComparison.Ordinal))
            return new CaptureDeviceException($"no capture interface named '{_settings.Interface}' (see 'sensor interfaces')", CaptureProblem.NoSuchInterface, e);
        if (m.Contains("is not up", StringComparison.Ordinal) || m.Contains("went down", StringComparison.Ordinal))
            return new CaptureDeviceException($"interface '{_settings.Interface}' is down", CaptureProblem.InterfaceDown, e);
        return new CaptureDeviceException($"cannot open '{_settings.Interface}': {m}", CaptureProblem.OpenFailed, e);
    }
}

using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using PacketDotNet;
using Sensor.Core.Events;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Capture.Live;

/// <summary>
/// Runs a small bundled capture of mail sessions (IMAP and POP3, interleaved) through a throwaway
/// pipeline before live capture starts. Without it the first packets meet cold code: the JIT pause
/// is long enough for the kernel ring to overflow on a busy link (measured: ~100 kernel drops in the
/// first second at 20k packets/s). Its events go nowhere. The Native AOT build the package ships
/// has no JIT: its code is compiled before it runs, so there it is skipped (<see cref="Needed"/>).
/// </summary>
public static class PipelineWarmUp
{
    private const string Resource = "Sensor.Capture.Live.warmup.pcap";

    /// <summary>Only where code is compiled at run time (the JIT build; false under Native AOT).</summary>
    public static bool Needed => RuntimeFeature.IsDynamicCodeCompiled;

    public static void Run(int rounds = 20)
    {
        using var stream = typeof(PipelineWarmUp).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException("warm-up capture missing from the assembly");
        var file = new byte[stream.Length];
        stream.ReadExactly(file);
        for (int round = 0; round < rounds; round++)
        {
            var pipeline = new PacketPipeline(new AnalysisOptions(), new ReassemblyLimits(), NullSink.Instance);
            // Classic pcap (little-endian, microseconds): 24-byte file header, 16-byte record headers.
            int at = 24;
            while (at + 16 <= file.Length)
            {
                long sec = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at));
                long usec = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 4));
                int capLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8));
                at += 16;
                if (capLen > 65_536 || at + capLen > file.Length) break;
                pipeline.OnFrame(LinkLayers.Ethernet, file.AsSpan(at, capLen), capLen, sec * 1_000_000_000L + usec * 1000);
                at += capLen;
            }
            pipeline.Finish();
        }
    }

    private sealed class NullSink : IEventSink
    {
        public static readonly NullSink Instance = new();
        public void Emit(SensorEvent e) { }
    }
}

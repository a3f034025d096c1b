using PacketDotNet;
using Sensor.Capture;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Sensor.Capture.Parallel;
using Sensor.Core.Events;
using Sensor.Core.Guessing;
using Sensor.Core.Health;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Fuzz.Targets;

/// <summary>
/// Target <c>pcap</c>: the input is a capture file, read the way <c>sensor read</c> reads it
/// (CaptureFileSource: the project's classic-pcap reader, libpcap for pcapng; FrameDecoder;
/// PacketPipeline; the guessing detector), on one thread and, for classic pcap, on two workers
/// (ParallelFileAnalysis, the default on a 2-core machine). The readers want a path, so the input
/// is written to one file per process first (in <c>SENSOR_FUZZ_TMP</c>, else /dev/shm, else the
/// temp folder).
///
/// Checked: no exception; the file's packet count is the number of frames handed on, and every
/// frame is counted; a file that could not be opened yields nothing; classic pcap is read exactly as
/// libpcap reads it (the same frames, lengths, timestamps, and damage found at the same record,
/// the claim of PcapFileReaderReferenceTests); two workers give the single-threaded events and
/// counters (while no bound is hit); no secret in any event; every event is one line of JSON and
/// text; at the end no flow, buffer or partial-line budget is held.
///
/// Under AFL++ the two-worker comparison is left out (<paramref name="compareWithWorkers"/> false):
/// SharpFuzz's instrumentation keeps one previous-branch location for all threads, so two workers
/// running at once scramble the edge map (stability fell to 4 %, and coverage stopped guiding the
/// search). Replaying inputs and the regression tests run it.
/// </summary>
public sealed class PcapTarget(bool compareWithWorkers = true) : IDisposable
{
    private readonly string _path = ScratchPath();

    private static string ScratchPath()
    {
        var dir = Environment.GetEnvironmentVariable("SENSOR_FUZZ_TMP") is { Length: > 0 } d ? d
            : Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        return Path.Combine(dir, $"sensor-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}.pcap");
    }

    public void Dispose() => File.Delete(_path);

    public void Run(ReadOnlySpan<byte> input)
    {
        using (var f = new FileStream(_path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 1))
            f.Write(input);

        var single = ReadSingleThreaded();
        EventChecks.NoSecrets(single.Events);
        EventChecks.FormatAsOneLine(single.Events);

        if (!PcapFileReader.IsClassicPcap(_path)) return;
        CheckSameFramesAsLibpcap(single);
        if (compareWithWorkers) CheckSameAsTwoWorkers(single);
    }

    private sealed record Frame(LinkLayers Link, byte[] Bytes, int Wire, long Ts);

    private sealed record Reading(CaptureFileResult Result, List<Frame> Frames, List<SensorEvent> Events, SensorCounters Counters);

    private static AnalysisOptions Options => new();
    private static ReassemblyLimits Limits => new();

    /// <summary>What <c>sensor read --threads 1</c> does with the file.</summary>
    private Reading ReadSingleThreaded()
    {
        var events = new EventList();
        var pipeline = new PacketPipeline(Options, Limits, new PasswordGuessingDetector(events, new GuessingThresholds()));
        var frames = new List<Frame>();
        var result = CaptureFileSource.Read(_path, (link, frame, wire, ts) =>
        {
            InvariantViolation.Check(frame.Length <= CaptureFileSource.MaxFrame, $"a frame of {frame.Length} bytes, beyond the maximum {CaptureFileSource.MaxFrame}");
            frames.Add(new Frame(link, frame.ToArray(), wire, ts));
            pipeline.OnFrame(link, frame, wire, ts);
        }, FrameDecoder.IsSupported);
        pipeline.Finish();

        InvariantViolation.Check(result.Packets == frames.Count, $"the reader counted {result.Packets} packets and handed on {frames.Count}");
        InvariantViolation.Check(pipeline.Counters.PacketsRead == frames.Count, $"{frames.Count} frames read, {pipeline.Counters.PacketsRead} counted");
        InvariantViolation.Check(result.Opened || (frames.Count == 0 && events.Events.Count == 0), "a file that could not be opened yielded packets or events");
        InvariantViolation.Check(pipeline.FlowCount == 0, "flows still tracked after the end of the file");
        InvariantViolation.Check(pipeline.Counters.BytesBufferedNow == 0, $"{pipeline.Counters.BytesBufferedNow} bytes still counted as buffered after the end of the file");
        InvariantViolation.Check(pipeline.Context.LineBudget.HeldBytes == 0, $"{pipeline.Context.LineBudget.HeldBytes} bytes of the partial-line budget still taken after the end of the file");
        return new Reading(result, frames, events.Events, pipeline.Counters);
    }

    private void CheckSameFramesAsLibpcap(Reading ours)
    {
        var theirs = new List<Frame>();
        var result = CaptureFileSource.ReadWithLibpcap(_path, (link, frame, wire, ts) => theirs.Add(new Frame(link, frame.ToArray(), wire, ts)),
            FrameDecoder.IsSupported);
        InvariantViolation.Check(result.Opened == ours.Result.Opened,
            $"libpcap {(result.Opened ? "opened" : "refused")} the file ({result.Error}), our reader {(ours.Result.Opened ? "opened" : "refused")} it ({ours.Result.Error})");
        InvariantViolation.Check(result.Packets == ours.Frames.Count, $"libpcap read {result.Packets} packets ({result.Error}), our reader {ours.Frames.Count} ({ours.Result.Error})");
        for (int i = 0; i < theirs.Count; i++)
        {
            var (a, b) = (ours.Frames[i], theirs[i]);
            InvariantViolation.Check(a.Link == b.Link && a.Wire == b.Wire && a.Ts == b.Ts && a.Bytes.AsSpan().SequenceEqual(b.Bytes),
                $"record {i}: ours {a.Link}/{a.Bytes.Length}/{a.Wire}/{a.Ts}, libpcap {b.Link}/{b.Bytes.Length}/{b.Wire}/{b.Ts}");
        }
        InvariantViolation.Check((result.Error is null) == (ours.Result.Error is null),
            $"after {theirs.Count} packets libpcap says {result.Error ?? "nothing"}, our reader {ours.Result.Error ?? "nothing"}");
    }

    /// <summary>What <c>sensor read</c> does with a classic pcap file on two cores.</summary>
    private void CheckSameAsTwoWorkers(Reading single)
    {
        var events = new EventList();
        var outcome = ParallelFileAnalysis.Run(_path, 2, Options, Limits, new PasswordGuessingDetector(events, new GuessingThresholds()),
            FrameDecoder.IsSupported);
        InvariantViolation.Check(outcome.Result.Opened == single.Result.Opened, "two workers and one thread disagree on whether the file opens");
        InvariantViolation.Check(outcome.Result.Packets == single.Result.Packets, $"two workers read {outcome.Result.Packets} packets, one thread {single.Result.Packets}");
        InvariantViolation.Check((outcome.Result.Error is null) == (single.Result.Error is null), "two workers and one thread disagree on whether the file is damaged");
        // Bounds are split between workers, so which connection a bound hits may differ (ParallelFileAnalysis's own caveat).
        if (BoundHit(single.Counters) || BoundHit(outcome.Counters)) return;
        EventChecks.SameEvents(single.Events, events.Events, "one thread against two workers");
        foreach (var f in typeof(SensorCounters).GetFields())
        {
            // Workers hold buffers at the same time: their peaks add up, the single run's does not.
            if (f.Name == nameof(SensorCounters.BytesBufferedPeak)) continue;
            InvariantViolation.Check(Equals(f.GetValue(single.Counters), f.GetValue(outcome.Counters)),
                $"counter {f.Name}: one thread {f.GetValue(single.Counters)}, two workers {f.GetValue(outcome.Counters)}");
        }
    }

    private static bool BoundHit(SensorCounters c) =>
        c.FlowsEvictedAtLimit + c.FlowBufferLimitHits + c.GlobalBufferLimitHits + c.SegmentsDroppedAtLimit + c.LineBudgetHits > 0;
}

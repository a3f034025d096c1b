using System.Diagnostics;
using Sensor.Capture;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Sensor.Capture.Parallel;
using Sensor.Core.Events;
using Sensor.Core.Guessing;
using Sensor.Core.Health;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;
using Xunit;

namespace Sensor.Integration.Tests.Parallel;

/// <summary>
/// Sharding flows over workers changes nothing a user sees: the same events, in the same order,
/// with the same counters, as the single-threaded pipeline, for any number of workers.
/// </summary>
public sealed class ParallelFileAnalysisTests : IClassFixture<ParallelFileAnalysisTests.GeneratedCapture>
{
    private readonly GeneratedCapture _generated;

    public ParallelFileAnalysisTests(GeneratedCapture generated) => _generated = generated;

    public static TheoryData<string> ClassicCaptures() => PcapFileReaderReferenceTests.ClassicCaptures();

    [Theory]
    [MemberData(nameof(ClassicCaptures))]
    public void EveryBundledCaptureGivesTheSameEventsInTheSameOrderOnAnyNumberOfWorkers(string capture)
    {
        var path = Path.Combine(RepoPaths.Pcaps, capture);
        var single = AnalyseSingleThreaded(path, new ReassemblyLimits());
        foreach (int workers in new[] { 2, 3, 4 })
            AssertSame(single, AnalyseInParallel(path, workers, new ReassemblyLimits()), $"{capture}, {workers} workers");
    }

    [Fact]
    public void AGeneratedCaptureOfThousandsOfInterleavedSessionsIsIdenticalOnOneTwoAndFourWorkers()
    {
        var limits = new ReassemblyLimits();
        var single = AnalyseSingleThreaded(_generated.Path, limits);
        Assert.Equal(_generated.ExpectedLogins, single.Events.OfType<AuthAttempt>().Count());
        Assert.Contains(single.Events, e => e is PasswordGuessing);
        // capture-gen's world has 36 mail servers, each speaking IMAP or POP3 on a port or two: each is reported once, at the end.
        var servers = single.Events.OfType<ServerReport>().ToList();
        Assert.True(servers.Count >= 36, $"only {servers.Count} server events");
        Assert.Equal(servers.Count, servers.Select(r => (r.Server, r.Protocol)).Distinct().Count());
        Assert.Equal(servers.Sum(r => r.Logins), single.Events.OfType<AuthAttempt>().Count());
        foreach (int workers in new[] { 2, 4 })
            AssertSame(single, AnalyseInParallel(_generated.Path, workers, limits), $"generated, {workers} workers");
    }

    [Fact]
    public void IdleExpiryClosingManyConnectionsAtOnePacketKeepsTheSingleThreadedOrder()
    {
        // Timeouts far below the sessions' pauses: connections on different workers expire at the
        // same packet again and again, and their events must still come out in one fixed order.
        var limits = new ReassemblyLimits { IdleTimeout = TimeSpan.FromMilliseconds(40), HandshakeTimeout = TimeSpan.FromMilliseconds(5) };
        var single = AnalyseSingleThreaded(_generated.Path, limits);
        Assert.True(single.Counters.FlowsExpired > 1000, $"only {single.Counters.FlowsExpired} flows expired: the test would prove little");
        Assert.Contains(single.Events, e => e is AuthAttempt { Outcome: AuthOutcome.Unknown });
        foreach (int workers in new[] { 2, 3 })
            AssertSame(single, AnalyseInParallel(_generated.Path, workers, limits), $"short timeouts, {workers} workers");
    }

    [Fact]
    public void ADamagedFileYieldsWhatSingleThreadedReadingYieldsAndTheSameError()
    {
        var bytes = File.ReadAllBytes(_generated.Path);
        var cut = Path.Combine(_generated.Directory, "cut.pcap");
        File.WriteAllBytes(cut, bytes[..(bytes.Length * 2 / 3)]);
        var single = AnalyseSingleThreaded(cut, new ReassemblyLimits());
        var parallel = AnalyseInParallel(cut, 2, new ReassemblyLimits());
        Assert.NotNull(single.Result.Error);
        Assert.Equal(single.Result.Error, parallel.Result.Error);
        Assert.Equal(single.Result.Packets, parallel.Result.Packets);
        AssertSame(single, parallel, "cut file");
    }

    [Fact]
    public void TheCommandLinePrintsTheSameBytesWithOneOrTwoThreads()
    {
        var one = SensorProcess.Run("read", "--json", "--no-summary", "--threads", "1", _generated.Path, RepoPaths.Pcaps);
        var two = SensorProcess.Run("read", "--json", "--no-summary", "--threads", "2", _generated.Path, RepoPaths.Pcaps);
        Assert.Equal(0, one.ExitCode);
        Assert.Equal(0, two.ExitCode);
        Assert.True(one.StdOutLines.Length > _generated.ExpectedLogins);
        // Server events included: emitted once per file after the merge, in the inventory's fixed order.
        Assert.True(one.StdOutLines.Count(l => l.Contains("\"event_type\":\"server\"", StringComparison.Ordinal)) > 36);
        Assert.Equal(one.StdOut, two.StdOut);
    }

    [Fact]
    public void ZeroThreadsIsAUsageError()
    {
        var run = SensorProcess.Run("read", "--threads", "0", _generated.Path);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--threads", run.StdErr);
    }

    private static void AssertSame(Run expected, Run actual, string what)
    {
        Assert.Equal(expected.Events.Count, actual.Events.Count);
        for (int i = 0; i < expected.Events.Count; i++)
            Assert.True(expected.Events[i].Equals(actual.Events[i]), $"{what}: event {i} differs:\n single:   {expected.Events[i]}\n parallel: {actual.Events[i]}");
        foreach (var f in typeof(SensorCounters).GetFields())
        {
            // Workers hold buffers at the same time: their peaks add up, the single run's does not.
            if (f.Name == nameof(SensorCounters.BytesBufferedPeak)) continue;
            Assert.True(Equals(f.GetValue(expected.Counters), f.GetValue(actual.Counters)),
                $"{what}: counter {f.Name}: single {f.GetValue(expected.Counters)}, parallel {f.GetValue(actual.Counters)}");
        }
        Assert.Equal(expected.Result.Packets, actual.Result.Packets);
        Assert.Equal(expected.Result.Error is null, actual.Result.Error is null);
        Assert.Equal(expected.Servers, actual.Servers);
    }

    private sealed record Run(List<SensorEvent> Events, SensorCounters Counters, CaptureFileResult Result, List<string> Servers);

    /// <summary>The events as the read command delivers them: postures stamped, then the guessing detector; the server reports last.</summary>
    private static Run AnalyseSingleThreaded(string path, ReassemblyLimits limits)
    {
        var sink = new CollectingSink();
        var pipeline = new PacketPipeline(new AnalysisOptions(), limits, new PasswordGuessingDetector(sink, new GuessingThresholds()));
        var result = CaptureFileSource.ReadClassicPcap(path, pipeline.OnFrame, FrameDecoder.IsSupported);
        pipeline.Finish();
        pipeline.ReportServers();
        return new Run(sink.Events, pipeline.Counters, result, Describe(pipeline.Servers!));
    }

    private static Run AnalyseInParallel(string path, int workers, ReassemblyLimits limits)
    {
        var sink = new CollectingSink();
        var detector = new PasswordGuessingDetector(sink, new GuessingThresholds());
        var outcome = ParallelFileAnalysis.Run(path, workers, new AnalysisOptions(), limits, detector, FrameDecoder.IsSupported);
        outcome.Servers.Report(detector, outcome.ClockNs); // as the read command does, once, after the merge
        return new Run(sink.Events, outcome.Counters, outcome.Result, Describe(outcome.Servers));
    }

    private static List<string> Describe(ServerPostureTable servers) =>
        servers.All.Select(s => $"{s.Server}/{s.Protocol} starttls={s.OffersStartTls} logindisabled={s.LoginDisabled} cleartext={s.CleartextLogins} upgrades={s.StartTlsUpgrades} " +
                                $"logins={s.Logins} failed={s.LoginsFailed} accepted={s.CleartextLoginsAccepted} caps={s.Capabilities} seen={s.FirstSeenNs}..{s.LastSeenNs}")
            .Order(StringComparer.Ordinal).ToList();

    /// <summary>A few thousand interleaved sessions from capture-gen, made once for the class.</summary>
    public sealed class GeneratedCapture : IDisposable
    {
        public GeneratedCapture()
        {
            Directory = System.IO.Directory.CreateTempSubdirectory("sensor-parallel-").FullName;
            Path = System.IO.Path.Combine(Directory, "mail.pcap");
            var psi = new ProcessStartInfo(RepoPaths.CaptureGenerator)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in new[] { "--out", Path, "--sessions", "3000", "--seed", "7", "--concurrency", "300", "--body-kib", "4" })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException("capture-gen failed: " + err.Result);
            var expected = System.Text.Json.JsonDocument.Parse(File.ReadAllText(System.IO.Path.ChangeExtension(Path, ".expected.json")));
            ExpectedLogins = expected.RootElement.GetProperty("auth_events").GetInt32();
        }

        public string Directory { get; }
        public string Path { get; }
        public int ExpectedLogins { get; }

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }
}

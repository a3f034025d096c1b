using System.Text.Json.Nodes;
using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Outputs.EventLog;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Sensor.Integration.Tests.EventLog;

/// <summary>The event writer's accounting: every event is either written or lost, never neither, and each outage is one log line.</summary>
public sealed class EventWriterTests
{
    private static AuthAttempt Auth(int n) => new()
    {
        TimestampNs = 1_735_812_000_000_000_000 + n,
        FlowId = "0123456789abcdef",
        Client = IpEndpoint.Parse("10.0.0.1", 50601),
        Server = IpEndpoint.Parse("10.0.0.2", 143),
        Protocol = AppProtocol.Imap,
        Mechanism = "LOGIN",
        Username = "user" + n,
        Exposure = CredentialExposure.Cleartext,
        Outcome = AuthOutcome.Success,
    };

    /// <summary>An output that refuses lines while <see cref="Broken"/> is set.</summary>
    private sealed class BreakableOutput(bool buffers) : EventOutput
    {
        public bool Broken;
        public readonly List<string> Lines = [];
        private readonly List<string> _pending = [];
        public override string Name => "test output";
        public override bool Buffers => buffers;

        public override void Append(ReadOnlySpan<byte> line)
        {
            if (Broken && !buffers) throw new IOException("No space left on device");
            (buffers ? _pending : Lines).Add(System.Text.Encoding.UTF8.GetString(line));
        }

        public override void Flush()
        {
            if (Broken)
            {
                _pending.Clear();
                throw new IOException("Broken pipe");
            }
            Lines.AddRange(_pending);
            _pending.Clear();
        }
    }

    private sealed class LogLines : ILogEventSink
    {
        public readonly List<string> Messages = [];
        public void Emit(LogEvent e) => Messages.Add(e.RenderMessage());
    }

    private static (EventWriter, LogLines) Writer(EventOutput output, bool stop = false)
    {
        var lines = new LogLines();
        var log = new LoggerConfiguration().WriteTo.Sink(lines).CreateLogger();
        return (new EventWriter(output, json: true, "edge-7", log) { StopOnFailure = stop }, lines);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryEventIsWrittenOrCountedLostAndAnOutageIsOneLogLine(bool buffers)
    {
        var output = new BreakableOutput(buffers);
        var (writer, log) = Writer(output);
        for (int i = 0; i < 3; i++) writer.Emit(Auth(i));
        output.Broken = true;
        for (int i = 3; i < 10; i++) writer.Emit(Auth(i));
        output.Broken = false;
        for (int i = 10; i < 12; i++) writer.Emit(Auth(i));
        writer.Flush();

        Assert.Equal(5, writer.Written);
        Assert.Equal(7, writer.Lost);
        Assert.Equal(writer.Written, output.Lines.Count);
        Assert.Null(writer.Failure);
        Assert.Single(log.Messages, m => m.Contains("cannot write events to \"test output\""));
        Assert.Single(log.Messages, m => m.Contains("again; 7 events were lost"));
        Assert.All(output.Lines, l => Assert.Equal("edge-7", (string?)JsonNode.Parse(l)!["host"]));
    }

    [Fact]
    public void ReadingStopsAtTheFirstFailure()
    {
        var output = new BreakableOutput(buffers: false);
        var (writer, _) = Writer(output, stop: true);
        writer.Emit(Auth(0));
        output.Broken = true;
        var e = Assert.Throws<EventSinkFailedException>(() => writer.Emit(Auth(1)));
        Assert.Contains("No space left on device", e.Message);
        Assert.Equal(1, writer.Written);
        Assert.Equal(1, writer.Lost);
    }

    [Fact]
    public void TheEventLogRollsUnderItsOwnNameAndKeepsTheRetainedCount()
    {
        var dir = Directory.CreateTempSubdirectory("sensor-roll-").FullName;
        try
        {
            var path = Path.Combine(dir, "events.json");
            File.WriteAllText(Path.Combine(dir, "events-notes.json"), "not ours"); // never deleted
            var (writer, _) = Writer(new EventLogFile(path, maxBytes: 1000, retainedFiles: 2));
            for (int i = 0; i < 40; i++) writer.Emit(Auth(i));
            writer.Dispose();

            var rolled = Directory.GetFiles(dir, "events-2*.json").Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(2, rolled.Length);
            Assert.True(File.Exists(Path.Combine(dir, "events-notes.json")));
            Assert.All(rolled.Append(path), f => Assert.True(new FileInfo(f).Length <= 1000));
            // The newest events are in the current file, in order, after those of the rolled files.
            var kept = rolled.Append(path).SelectMany(File.ReadAllLines).Select(l => (string?)JsonNode.Parse(l)!["auth"]!["username"]).ToList();
            Assert.Equal(Enumerable.Range(40 - kept.Count, kept.Count).Select(i => "user" + i), kept);
            Assert.Equal(40, writer.Written);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

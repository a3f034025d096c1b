using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using PacketDotNet;
using Sensor.Capture.Files;
using Sensor.Core.Events;
using Sensor.Core.Health;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Capture.Parallel;

/// <summary>
/// Analyses one classic pcap file on several cores. Every worker reads the whole file with its own
/// <see cref="PcapFileReader"/> (positional reads share the page cache, no packet is copied between
/// threads), decodes each frame, and analyses only the connections its <see cref="FlowShard"/>
/// owns; it still advances its clock on every packet, so idle expiry happens at exactly the packet
/// it would single-threaded. Each event carries its <see cref="InputPosition"/>; the calling thread
/// merges the workers' streams by it, which reproduces the single-threaded order exactly, then
/// applies server postures and hands events on. Identical output holds while no bound is hit: the
/// flow and buffer bounds are split between workers, so under overload which flow a bound hits can
/// differ (every hit is still counted).
/// </summary>
public static class ParallelFileAnalysis
{
    /// <summary>Packets between hand-overs to the merge: small enough to bound memory, large enough to be cheap.</summary>
    private const int ChunkPackets = 16_384;
    private const int ChunkEvents = 1_024;
    /// <summary>Chunks a worker may run ahead of the merge.</summary>
    private const int QueuedChunks = 4;

    /// <param name="ClockNs">The file's latest packet time: when its end-of-file server report is stamped.</param>
    public sealed record Outcome(CaptureFileResult Result, SensorCounters Counters, ServerPostureTable Servers, long ClockNs = long.MinValue);

    public static Outcome Run(string path, int workers, AnalysisOptions options, ReassemblyLimits limits,
        IEventSink sink, Func<LinkLayers, bool> linkSupported, CaptureFilter? filter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        var postures = new ServerPostureTracker(sink, options.MaxServers);
        var counters = new SensorCounters();

        LinkLayers link;
        long length;
        try
        {
            using var probe = PcapFileReader.Open(path);
            link = probe.LinkType;
            // Every worker reads up to the same point, even if the file grows meanwhile (a capture
            // still being written): they must all see the same packets.
            length = new FileInfo(path).Length;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return new Outcome(new CaptureFileResult(path, false, 0, e.Message, -1), counters, postures.Servers);
        }
        if (!linkSupported(link))
            return new Outcome(new CaptureFileResult(path, false, 0, $"unsupported link type {(int)link} ({link})", (int)link), counters, postures.Servers);
        if (filter?.Prepare(link) is { } filterError)
            return new Outcome(new CaptureFileResult(path, false, 0, $"the filter cannot run on link type {(int)link} ({link}): {filterError}", (int)link), counters, postures.Servers);

        var shardLimits = WorkerShare.Of(limits, workers);
        var shardOptions = WorkerShare.Of(options, workers);
        var queues = new BlockingCollection<ShardChunk>[workers];
        var threads = new Thread[workers];
        using var stop = new CancellationTokenSource();
        for (int i = 0; i < workers; i++)
        {
            var queue = queues[i] = new BlockingCollection<ShardChunk>(QueuedChunks);
            var shard = new FlowShard(i, workers);
            threads[i] = new Thread(() => Work(path, length, link, shard, shardOptions, shardLimits, queue, filter, stop.Token))
            {
                IsBackground = true,
                Name = $"shard {i}/{workers}",
            };
            threads[i].Start();
        }

        long packets = 0, clock = long.MinValue;
        string? readError = null;
        try
        {
            Merge(queues, postures, counters, ref packets, ref clock, ref readError, stop.Token);
        }
        finally
        {
            // On an output failure the workers may be blocked handing over chunks: release them.
            stop.Cancel();
            foreach (var t in threads) t.Join();
            foreach (var q in queues) q.Dispose();
        }
        return new Outcome(new CaptureFileResult(path, true, packets, readError, (int)link), counters, postures.Servers, clock);
    }

    private static void Work(string path, long length, LinkLayers link, FlowShard shard, AnalysisOptions options,
        ReassemblyLimits limits, BlockingCollection<ShardChunk> queue, CaptureFilter? filter, CancellationToken stop)
    {
        try
        {
            var buffer = new ShardEventBuffer();
            var pipeline = PacketPipeline.ForShard(options, limits, buffer, shard, fedEveryFrame: true);
            buffer.Position = pipeline.Position;
            using var reader = PcapFileReader.Open(path, length);
            string? readError = null;
            int sinceChunk = 0;
            try
            {
                while (reader.Next(out var frame, out int wireLength, out long ts) == PcapReadStatus.Packet)
                {
                    // Every worker reads every frame; the first one counts what the filter leaves out.
                    if (filter is null || filter.Matches(link, frame, wireLength, count: shard.OwnsNonTcp)) pipeline.OnFrame(link, frame, wireLength, ts);
                    if (++sinceChunk >= ChunkPackets || buffer.Pending.Count >= ChunkEvents)
                    {
                        queue.Add(new ShardChunk { Events = buffer.TakePending(), Watermark = pipeline.Position.Packet }, stop);
                        sinceChunk = 0;
                    }
                }
                readError = reader.Error;
            }
            catch (IOException e)
            {
                readError = e.Message; // the file became unreadable: what was read stands, as single-threaded
            }
            pipeline.Finish();
            queue.Add(new ShardChunk
            {
                Events = buffer.TakePending(),
                Watermark = long.MaxValue,
                FinalCounters = pipeline.Counters,
                PacketsRead = reader.Packets,
                ClockNs = pipeline.ClockNs,
                ReadError = readError,
            }, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The merge gave up (its output failed); nothing more is wanted.
        }
        catch (Exception e)
        {
            try { queue.Add(new ShardChunk { Events = [], Watermark = long.MaxValue, Failure = e }, stop); }
            catch (OperationCanceledException) { }
        }
    }

    /// <summary>
    /// k-way merge by input position. An event is released once every worker's watermark has
    /// reached its packet: no worker can still produce an earlier one.
    /// </summary>
    private static void Merge(BlockingCollection<ShardChunk>[] queues, IEventSink output, SensorCounters counters,
        ref long packets, ref long clock, ref string? readError, CancellationToken stop)
    {
        int n = queues.Length;
        var heads = new Queue<OrderedEvent>[n];
        var marks = new long[n];
        var done = new bool[n];
        for (int i = 0; i < n; i++) heads[i] = new Queue<OrderedEvent>();

        while (true)
        {
            long low = long.MaxValue;
            foreach (var m in marks) low = Math.Min(low, m);
            while (true)
            {
                int best = -1;
                for (int s = 0; s < n; s++)
                    if (heads[s].Count > 0 && (best < 0 || heads[s].Peek().Precedes(heads[best].Peek())))
                        best = s;
                if (best < 0 || heads[best].Peek().Packet > low) break;
                output.Emit(heads[best].Dequeue().Event);
            }

            int next = -1;
            for (int s = 0; s < n; s++)
                if (!done[s] && (next < 0 || marks[s] < marks[next])) next = s;
            if (next < 0) return; // every worker finished and every event was released

            var chunk = queues[next].Take(stop);
            if (chunk.Failure is not null) ExceptionDispatchInfo.Capture(chunk.Failure).Throw();
            foreach (var e in chunk.Events) heads[next].Enqueue(e);
            marks[next] = chunk.Watermark;
            if (chunk.FinalCounters is { } c)
            {
                done[next] = true;
                counters.Add(c);
                packets = chunk.PacketsRead;
                clock = Math.Max(clock, chunk.ClockNs);
                readError ??= chunk.ReadError;
            }
        }
    }
}

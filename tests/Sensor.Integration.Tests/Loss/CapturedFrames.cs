using PacketDotNet;
using Sensor.Capture;
using Sensor.Capture.Decoding;
using Sensor.Capture.Files;
using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Integration.Tests.Loss;

/// <summary>
/// A capture held in memory frame by frame, so that it can be replayed many times with some frames
/// left out, through the same path as <see cref="GoldenCaptureTests"/>: <see cref="PacketPipeline"/>
/// fed by the project's reader, finished at the end of input.
/// </summary>
internal sealed class CapturedFrames
{
    /// <summary>One frame as read, with what the decoder says about its TCP segment (if any).</summary>
    public readonly record struct Frame(LinkLayers Link, byte[] Bytes, int WireLength, long TimestampNs,
        IpEndpoint Source, IpEndpoint Destination, byte[] Payload, bool OpensConnection = false)
    {
        public bool CarriesPayload => Payload.Length > 0;
    }

    private CapturedFrames(List<Frame> frames, CaptureFileResult result)
    {
        Frames = frames;
        Result = result;
    }

    public IReadOnlyList<Frame> Frames { get; }
    public CaptureFileResult Result { get; }

    /// <summary>Opened and read to its end without an error (a truncated or unsupported file is not).</summary>
    public bool ReadCleanly => Result.Opened && Result.Error is null;

    public static CapturedFrames Load(string path)
    {
        var frames = new List<Frame>();
        var result = CaptureFileSource.Read(path, (link, frame, wireLength, ts) =>
        {
            var bytes = frame.ToArray();
            if (FrameDecoder.Decode(link, bytes, ts, out var segment, out _) == DecodeResult.Tcp)
                frames.Add(new Frame(link, bytes, wireLength, ts, segment.Source, segment.Destination, segment.Payload.ToArray(),
                    OpensConnection: segment.Has(TcpFlags.Syn) && !segment.Has(TcpFlags.Ack)));
            else
                frames.Add(new Frame(link, bytes, wireLength, ts, default, default, []));
        }, FrameDecoder.IsSupported);
        return new CapturedFrames(frames, result);
    }

    /// <summary>The events of the capture with the frames marked in <paramref name="dropped"/> never captured.</summary>
    public List<SensorEvent> Analyse(bool[]? dropped = null)
    {
        var sink = new CollectingSink();
        var pipeline = new PacketPipeline(new AnalysisOptions(), new ReassemblyLimits(), sink);
        for (int i = 0; i < Frames.Count; i++)
        {
            if (dropped is not null && dropped[i]) continue;
            var f = Frames[i];
            pipeline.OnFrame(f.Link, f.Bytes, f.WireLength, f.TimestampNs);
        }
        pipeline.Finish();
        return sink.Events;
    }
}

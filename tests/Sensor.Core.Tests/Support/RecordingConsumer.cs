namespace Sensor.Core.Tests.Support;

/// <summary>What a stream consumer was handed, in order: bytes, or a gap of so many bytes.</summary>
public readonly record struct Piece(byte[]? Data, long Gap)
{
    public override string ToString() => Data is null ? $"gap({Gap})" : $"data({Data.Length})";
}

/// <summary>A consumer that keeps everything the reassembler delivers, per direction.</summary>
public sealed class RecordingConsumer : IStreamConsumer
{
    public RecordingConsumer(TcpFlow flow) => Flow = flow;

    public TcpFlow Flow { get; }
    public List<Piece> ClientToServer { get; } = new();
    public List<Piece> ServerToClient { get; } = new();
    public List<FlowCloseReason> Closes { get; } = new();
    /// <summary>What OnData answers: false makes the reassembler stop delivering this connection.</summary>
    public bool WantsMore { get; set; } = true;

    public List<Piece> Of(StreamDirection d) => d == StreamDirection.ClientToServer ? ClientToServer : ServerToClient;

    public bool OnData(StreamDirection direction, ReadOnlySpan<byte> data, long timestampNs)
    {
        Assert.True(Closes.Count == 0, "data after close");
        Assert.False(data.IsEmpty, "empty delivery");
        Of(direction).Add(new Piece(data.ToArray(), 0));
        return WantsMore;
    }

    public void OnGap(StreamDirection direction, long skippedBytes, long timestampNs)
    {
        Assert.True(Closes.Count == 0, "gap after close");
        Of(direction).Add(new Piece(null, skippedBytes));
    }

    public void OnClose(FlowCloseReason reason, long timestampNs) => Closes.Add(reason);

    /// <summary>Adjacent data pieces merged, so that comparisons do not depend on how bytes were chunked.</summary>
    public static List<Piece> Normalize(IEnumerable<Piece> pieces)
    {
        var result = new List<Piece>();
        var pending = new List<byte>();
        foreach (var p in pieces)
        {
            if (p.Data is not null) { pending.AddRange(p.Data); continue; }
            if (pending.Count > 0) { result.Add(new Piece(pending.ToArray(), 0)); pending.Clear(); }
            result.Add(p);
        }
        if (pending.Count > 0) result.Add(new Piece(pending.ToArray(), 0));
        return result;
    }

    public static byte[] Bytes(IEnumerable<Piece> pieces) =>
        pieces.Where(p => p.Data is not null).SelectMany(p => p.Data!).ToArray();
}

public sealed class RecordingConsumerFactory : IStreamConsumerFactory
{
    public List<RecordingConsumer> Created { get; } = new();

    public IStreamConsumer Create(TcpFlow flow)
    {
        var c = new RecordingConsumer(flow);
        Created.Add(c);
        return c;
    }
}

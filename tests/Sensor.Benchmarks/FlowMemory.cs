using System.Buffers.Binary;
using PacketDotNet;
using Sensor.Benchmarks.Support;
using Sensor.Capture;
using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Benchmarks;

/// <summary>
/// Retained memory per tracked connection, by kind: open 100,000 connections of one kind through
/// the real pipeline, leave them idle, and divide the growth of the managed heap (after a full
/// collection) by their number. Run: dotnet run -c Release --project tests/Sensor.Benchmarks -- --flow-memory
/// </summary>
public static class FlowMemory
{
    private const int Flows = 100_000;
    private const uint ServerIp = 0x0A020001; // 10.2.0.1
    private static long _time = 1_735_812_000_000_000_000;

    private sealed record Kind(string Name, ushort Port, string? Greeting, string? Command, string? Reply, bool HalfOpen = false, bool SynOnly = false);

    public static void Run()
    {
        var kinds = new[]
        {
            new Kind("SYN only (flood)", 143, null, null, null, SynOnly: true),
            new Kind("half-open (SYN, SYN/ACK)", 143, null, null, null, HalfOpen: true),
            new Kind("IMAP, idle after CAPABILITY", 143, "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n", "a1 CAPABILITY\r\n",
                "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\na1 OK done\r\n"),
            new Kind("POP3, idle after CAPA", 110, "+OK POP3 ready\r\n", "CAPA\r\n", "+OK\r\nSTLS\r\nUSER\r\n.\r\n"),
            new Kind("not mail (HTTP), released", 80, null, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        };
        Console.WriteLine($"Retained managed memory per idle tracked connection ({Flows:N0} connections of each kind, default limits)");
        Console.WriteLine($"{"kind",-32} {"bytes/flow",10} {"flows tracked",14}");
        foreach (var kind in kinds)
        {
            var (perFlow, tracked) = Measure(kind);
            Console.WriteLine($"{kind.Name,-32} {perFlow,10:N0} {tracked,14:N0}");
        }
        int max = new ReassemblyLimits().MaxFlows;
        Console.WriteLine($"At the default MaxFlows ({max:N0}) the costliest kind above holds {max} x its bytes/flow of tracking state.");
    }

    private static (long PerFlow, int Tracked) Measure(Kind kind)
    {
        var pipeline = new PacketPipeline(new AnalysisOptions(), new ReassemblyLimits(), new NullSink());
        var frame = new byte[2048];
        // Warm up code paths and pools so the measurement holds only per-flow state.
        Open(pipeline, kind, frame, 1_000_000);
        long before = Retained();
        for (int i = 0; i < Flows; i++) Open(pipeline, kind, frame, i);
        long after = Retained();
        GC.KeepAlive(pipeline);
        return ((after - before) / Flows, pipeline.FlowCount);
    }

    private static long Retained()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static void Open(PacketPipeline p, Kind kind, byte[] frame, int i)
    {
        uint client = 0x0B000000u | (uint)i; // 11.x.y.z: one client per connection
        ushort cport = (ushort)(20_000 + i % 40_000);
        uint cseq = 1000, sseq = 900_000;
        Send(p, frame, client, cport, ServerIp, kind.Port, cseq, 0, Syn, default);
        if (kind.SynOnly) return;
        Send(p, frame, ServerIp, kind.Port, client, cport, sseq, cseq + 1, Syn | Ack, default);
        if (kind.HalfOpen) return;
        cseq++; sseq++;
        Send(p, frame, client, cport, ServerIp, kind.Port, cseq, sseq, Ack, default);
        if (kind.Greeting is { } g) { Send(p, frame, ServerIp, kind.Port, client, cport, sseq, cseq, Ack | Psh, Ascii(g)); sseq += (uint)g.Length; }
        if (kind.Command is { } c) { Send(p, frame, client, cport, ServerIp, kind.Port, cseq, sseq, Ack | Psh, Ascii(c)); cseq += (uint)c.Length; }
        if (kind.Reply is { } r) { Send(p, frame, ServerIp, kind.Port, client, cport, sseq, cseq, Ack | Psh, Ascii(r)); sseq += (uint)r.Length; }
        Send(p, frame, client, cport, ServerIp, kind.Port, cseq, sseq, Ack, default);
    }

    private const byte Syn = 0x02, Psh = 0x08, Ack = 0x10;

    private static byte[] Ascii(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    /// <summary>Ethernet + IPv4 + TCP (no options); checksums are not checked by a passive sensor.</summary>
    private static void Send(PacketPipeline p, byte[] f, uint src, ushort sport, uint dst, ushort dport, uint seq, uint ack, byte flags, ReadOnlySpan<byte> payload)
    {
        Array.Clear(f, 0, 54);
        f[12] = 0x08; f[13] = 0x00;                      // EtherType IPv4
        f[14] = 0x45;                                    // IPv4, 20-byte header
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(16), (ushort)(40 + payload.Length));
        f[22] = 64; f[23] = 6;                           // TTL, TCP
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(26), src);
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(30), dst);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(34), sport);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(36), dport);
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(38), seq);
        BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(42), ack);
        f[46] = 0x50; f[47] = flags;                     // 20-byte header
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(48), 65535);
        payload.CopyTo(f.AsSpan(54));
        int length = 54 + payload.Length;
        _time += 1_000; // 1 µs apart: nothing expires during the measurement
        p.OnFrame(LinkLayers.Ethernet, f.AsSpan(0, length), length, _time);
    }
}

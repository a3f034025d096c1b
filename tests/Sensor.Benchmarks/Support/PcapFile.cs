using System.Buffers.Binary;
using PacketDotNet;

namespace Sensor.Benchmarks.Support;

/// <summary>One captured frame held in memory, as <c>PacketPipeline.OnFrame</c> takes it.</summary>
public readonly record struct Frame(byte[] Data, int WireLength, long TimestampNs);

/// <summary>
/// A minimal classic pcap reader (24-byte file header, 16-byte record headers; micro- or
/// nanosecond magic, either byte order), so the benchmarks do not depend on the capture-file code.
/// </summary>
public static class PcapFile
{
    public static Frame[] Read(string path, out LinkLayers link)
    {
        var file = File.ReadAllBytes(path);
        if (file.Length < 24) throw new InvalidDataException($"{path}: not a pcap file");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(file);
        bool swapped;
        long fracToNs;
        switch (magic)
        {
            case 0xa1b2c3d4: swapped = false; fracToNs = 1000; break;
            case 0xa1b23c4d: swapped = false; fracToNs = 1; break;
            case 0xd4c3b2a1: swapped = true; fracToNs = 1000; break;
            case 0x4d3cb2a1: swapped = true; fracToNs = 1; break;
            default: throw new InvalidDataException($"{path}: not a classic pcap file (magic {magic:x8})");
        }
        uint U32(int at) => swapped ? BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(at)) : BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at));
        link = (LinkLayers)(int)(U32(20) & 0x0FFFFFFF);

        var frames = new List<Frame>();
        int pos = 24;
        while (pos + 16 <= file.Length)
        {
            long sec = U32(pos);
            long frac = U32(pos + 4);
            int capLen = (int)U32(pos + 8);
            int wireLen = (int)U32(pos + 12);
            pos += 16;
            if (capLen < 0 || pos + capLen > file.Length) break; // truncated last record
            frames.Add(new Frame(file.AsSpan(pos, capLen).ToArray(), wireLen, sec * 1_000_000_000L + frac * fracToNs));
            pos += capLen;
        }
        return frames.ToArray();
    }
}

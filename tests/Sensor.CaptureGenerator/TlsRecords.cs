namespace Sensor.CaptureGenerator;

/// <summary>Bytes that look like TLS on the wire: record headers followed by random bytes.</summary>
internal static class TlsRecords
{
    public const byte ChangeCipherSpec = 0x14, Alert = 0x15, Handshake = 0x16, ApplicationData = 0x17;

    /// <summary>One record of <paramref name="length"/> random bytes (at most 16384), sent by reference from the pool.</summary>
    public static Msg Record(bool fromClient, byte type, int length, World w, Random rng, ushort version = 0x0303)
    {
        var header = new byte[] { type, (byte)(version >> 8), (byte)version, (byte)(length >> 8), (byte)length };
        int off = rng.Next(w.RandomPool.Length - length);
        return new Msg(fromClient, header, w.RandomPool.AsMemory(off, length));
    }

    /// <summary>What follows a successful STARTTLS/STLS: a handshake and a little application data, about 2-6 KB in all.</summary>
    public static IEnumerable<Msg> AfterStartTls(World w, Random rng)
    {
        yield return Record(true, Handshake, rng.Next(200, 520), w, rng, 0x0301);           // ClientHello
        yield return Record(false, Handshake, rng.Next(1300, 3200), w, rng);               // ServerHello, certificate, ...
        yield return Record(true, ApplicationData, rng.Next(60, 300), w, rng);             // Finished (encrypted)
        yield return Record(false, ApplicationData, rng.Next(100, 700), w, rng);           // tickets, capability
        yield return Record(true, ApplicationData, rng.Next(40, 300), w, rng);             // the login, encrypted
        yield return Record(false, ApplicationData, rng.Next(60, 900), w, rng);
        yield return Record(true, Alert, 26, w, rng);                                       // close_notify
    }
}

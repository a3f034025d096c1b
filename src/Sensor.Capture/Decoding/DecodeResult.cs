namespace Sensor.Capture.Decoding;

public enum DecodeResult : byte
{
    Tcp,
    NotIp,
    NotTcp,
    Fragment,
    Malformed,
}

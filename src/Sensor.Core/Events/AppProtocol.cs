namespace Sensor.Core.Events;

public enum AppProtocol : byte
{
    Imap,
    Pop3,
    Smtp,
}

namespace Sensor.Core.Detection;

public enum MailProtocolGuess : byte
{
    NeedMore,
    Imap,
    Pop3,
    Smtp,
    NotMail,
}

namespace Sensor.Core.Events;

/// <summary>What the server answered to a login: tagged OK / +OK, tagged NO|BAD / -ERR, or nothing seen.</summary>
public enum AuthOutcome : byte
{
    Unknown,
    Success,
    Failure,
}

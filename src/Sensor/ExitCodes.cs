namespace Sensor;

/// <summary>Process exit codes, as documented in the README.</summary>
public static class ExitCodes
{
    /// <summary>The input was read (whether or not logins were found).</summary>
    public const int Ok = 0;
    /// <summary>No input could be read.</summary>
    public const int NoInput = 1;
    /// <summary>The command line or the configuration was wrong (a capture filter libpcap cannot compile included).</summary>
    public const int Usage = 2;
    /// <summary>Findings could not be written (disk full, closed pipe); what was written before stays.</summary>
    public const int OutputFailed = 3;
    /// <summary>The capture interface could not be opened (no such interface, no permission, no libpcap).</summary>
    public const int CaptureUnavailable = 4;
}

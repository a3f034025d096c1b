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
    /// <summary>
    /// The capture interface could not be opened: no permission, no libpcap, a link type the sensor
    /// cannot decode, a fanout group the kernel refused, or (run by hand) no such interface. Will not fix itself: the unit does not restart
    /// on it. Run by a service manager, a missing or down interface is waited for instead.
    /// </summary>
    public const int CaptureUnavailable = 4;
    /// <summary>
    /// The capture failed while running, in a way reopening the interface cannot cure (a failing
    /// analysis worker, an error on the capture thread). What was found before is written; the unit
    /// restarts the sensor (Restart=on-failure).
    /// </summary>
    public const int CaptureFailed = 5;
    /// <summary>
    /// `read` with metrics: the findings were written, but some points did not reach InfluxDB (they
    /// wait in the spool for the next run, or the server refused them): said on stderr and in the summary.
    /// </summary>
    public const int MetricsUndelivered = 6;
    /// <summary>
    /// A fault in the sensor itself (a bug; analyzer faults stay inside their connection and do not
    /// come here): said on stderr with its stack trace, to be reported. What was found before it is
    /// written. 70 is EX_SOFTWARE of sysexits.h.
    /// </summary>
    public const int InternalError = 70;
}

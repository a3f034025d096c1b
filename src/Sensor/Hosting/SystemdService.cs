using Microsoft.Extensions.Hosting.Systemd;

namespace Sensor.Hosting;

/// <summary>
/// This process as a systemd service: whether a service manager started it, and the one-line
/// status it shows in `systemctl status` (sd_notify(3) STATUS=).
/// </summary>
public static class SystemdService
{
    private static readonly SystemdNotifier Notifier = new();

    /// <summary>
    /// True when our parent is systemd (the test Microsoft.Extensions.Hosting.Systemd makes before
    /// it sends READY=1), or when NOTIFY_SOCKET says a service manager waits for our notifications
    /// (a container's init; a test standing in for systemd). Then a capture interface that is not
    /// there yet is waited for rather than fatal. Not INVOCATION_ID: everything a unit starts
    /// inherits it, terminal emulators run as user units included, and typing a wrong interface
    /// name at a shell must still fail at once.
    /// </summary>
    public static bool Detected { get; } = SystemdHelpers.IsSystemdService() || Notifier.IsEnabled;

    /// <summary>Tells the service manager what the sensor is doing; advisory, so a failure to tell is ignored.</summary>
    public static void Status(string text)
    {
        if (!Notifier.IsEnabled) return;
        try
        {
            Notifier.Notify(new ServiceState("STATUS=" + text.ReplaceLineEndings(" ")));
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
        {
            // The manager's socket went away (it is restarting us, or a test ended): nothing to tell.
        }
    }
}

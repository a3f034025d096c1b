using System.CommandLine;
using Sensor.Capture.Live;

namespace Sensor.Commands;

/// <summary>`sensor interfaces`: the capture devices libpcap can open here.</summary>
public static class InterfacesCommand
{
    public static Command Create()
    {
        var command = new Command("interfaces", "List the capture interfaces.");
        command.SetAction(_ =>
        {
            try
            {
                foreach (var d in CaptureInterfaces.List())
                {
                    var addresses = d.Addresses.Count > 0 ? "  " + string.Join(", ", d.Addresses) : "";
                    Console.WriteLine($"{d.Name}{(d.Loopback ? "  (loopback)" : "")}{addresses}");
                }
                return ExitCodes.Ok;
            }
            catch (CaptureDeviceException e)
            {
                Console.Error.WriteLine($"sensor: {e.Message}");
                return ExitCodes.CaptureUnavailable;
            }
        });
        return command;
    }
}

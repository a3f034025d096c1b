using SharpPcap.LibPcap;

namespace Sensor.Capture.Live;

/// <summary>The capture devices libpcap can open on this machine.</summary>
public static class CaptureInterfaces
{
    public sealed record Device(string Name, bool Loopback, IReadOnlyList<string> Addresses);

    public static IReadOnlyList<Device> List()
    {
        try
        {
            // A fresh list every time: interfaces come and go (veths, VPNs), the cached Instance would not see it.
            return LibPcapLiveDeviceList.New()
                .Select(d => new Device(d.Name, d.Loopback,
                    d.Addresses.Select(a => a.Addr?.ipAddress?.ToString()).Where(a => a is not null).Select(a => a!).ToList()))
                .ToList();
        }
        catch (DllNotFoundException e)
        {
            throw new CaptureDeviceException("libpcap is not installed (Debian: apt-get install libpcap0.8)", CaptureProblem.LibpcapMissing, e);
        }
        catch (TypeInitializationException e) when (e.InnerException is DllNotFoundException)
        {
            throw new CaptureDeviceException("libpcap is not installed (Debian: apt-get install libpcap0.8)", CaptureProblem.LibpcapMissing, e);
        }
    }

    internal static LibPcapLiveDevice? Find(string name)
    {
        try
        {
            return LibPcapLiveDeviceList.New().FirstOrDefault(d => d.Name == name);
        }
        catch (Exception e) when (e is DllNotFoundException || e.InnerException is DllNotFoundException)
        {
            throw new CaptureDeviceException("libpcap is not installed (Debian: apt-get install libpcap0.8)", CaptureProblem.LibpcapMissing, e);
        }
    }
}

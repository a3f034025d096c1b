namespace Sensor.Integration.Tests;

/// <summary>Where the repository, its captures and the built `sensor` executable are.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Pcaps => Path.Combine(Root, "pcaps");

    /// <summary>The sensor executable of the same configuration as these tests.</summary>
    public static string SensorExecutable
    {
        get
        {
            var here = AppContext.BaseDirectory; // tests/X/bin/<Config>/net10.0/
            var config = new DirectoryInfo(here).Parent!.Name;
            return Path.Combine(Root, "src", "Sensor", "bin", config, "net10.0", "sensor");
        }
    }

    /// <summary>The capture generator (tests/Sensor.CaptureGenerator) of the same configuration.</summary>
    public static string CaptureGenerator
    {
        get
        {
            var config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
            return Path.Combine(Root, "tests", "Sensor.CaptureGenerator", "bin", config, "net10.0", "capture-gen");
        }
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sensor.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Sensor.sln not found above " + AppContext.BaseDirectory);
    }
}

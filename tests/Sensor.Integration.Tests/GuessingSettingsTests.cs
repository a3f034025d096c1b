namespace Sensor.Integration.Tests;

/// <summary>`sensor run` refuses password-guessing settings the detector cannot honour, before touching any interface.</summary>
public sealed class GuessingSettingsTests
{
    [Theory]
    [InlineData("MaxClients", "0")]
    [InlineData("MaxUsernames", "-1")]
    [InlineData("MaxClients", "100000000")]
    [InlineData("Failures", "0")]
    [InlineData("WindowSeconds", "0")]
    public void AnImpossibleGuessingSettingIsAUsageError(string key, string value)
    {
        var config = Path.Combine(Path.GetTempPath(), $"sensor-guessing-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        File.WriteAllText(config, $$"""{ "Guessing": { "{{key}}": {{value}} } }""");
        try
        {
            var run = SensorProcess.Run("run", "--interface", "no-such-if0", "--events", "-", "--config", config);
            Assert.Equal(2, run.ExitCode);
            Assert.Contains("sensor: Guessing:", run.StdErr);
        }
        finally
        {
            File.Delete(config);
        }
    }
}

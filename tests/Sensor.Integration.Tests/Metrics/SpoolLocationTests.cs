using Sensor.Outputs.Metrics;

namespace Sensor.Integration.Tests.Metrics;

/// <summary>Where a spool lives: the user's state directory, and a directory per target named without credentials.</summary>
public sealed class SpoolLocationTests
{
    [Fact]
    public void TheUsersSpoolFollowsXdgStateHomeElseLivesUnderDotLocalState()
    {
        Assert.Equal("/s/mail-sensor/spool", SpoolLocation.DefaultForUser("/s", "/home/u"));
        Assert.Equal("/home/u/.local/state/mail-sensor/spool", SpoolLocation.DefaultForUser(null, "/home/u"));
        // A relative XDG_STATE_HOME is invalid (XDG Base Directory Specification): ignored.
        Assert.Equal("/home/u/.local/state/mail-sensor/spool", SpoolLocation.DefaultForUser("state", "/home/u"));
        Assert.Equal(SpoolLocation.DefaultForUser(), new InfluxSettings().SpoolDirectory);
    }

    [Fact]
    public void OneServerSpelledTwoWaysIsOneTargetAndItsCredentialsAreInNoName()
    {
        var a = new InfluxTarget("http://admin:s3cret@Influx.Example:80/", "mail_sensor", "o");
        var b = new InfluxTarget("http://influx.example", "mail_sensor", "o");
        Assert.Equal(a.SpoolName, b.SpoolName);
        Assert.Equal("http://influx.example:80", a.Url);
        Assert.Equal("admin:s3cret", a.UserInfo);
        Assert.DoesNotContain("s3cret", a.SpoolName + a.Url + a.BaseAddress);
        Assert.StartsWith("influx.example-80-", a.SpoolName);
    }

    [Fact]
    public void AnotherBucketOrServerIsAnotherTarget()
    {
        var names = new[]
        {
            new InfluxTarget("http://127.0.0.1:8086", "mail_sensor", "o").SpoolName,
            new InfluxTarget("http://127.0.0.1:8086", "other", "o").SpoolName,
            new InfluxTarget("http://127.0.0.1:8086", "mail_sensor", "p").SpoolName,
            new InfluxTarget("http://127.0.0.1:8087", "mail_sensor", "o").SpoolName,
            new InfluxTarget("https://127.0.0.1:8086", "mail_sensor", "o").SpoolName,
            new InfluxTarget("http://127.0.0.1:8086/influx", "mail_sensor", "o").SpoolName,
        };
        Assert.Equal(names.Length, names.Distinct().Count());
    }

    [Fact]
    public void AnAddressThatIsNotHttpIsRefusedWithoutRepeatingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => new InfluxTarget("ftp://u:s3cret@h/", "b", "o"));
        Assert.DoesNotContain("s3cret", e.Message);
    }
}

namespace Sensor.Integration.Tests.Live;

/// <summary>
/// The service survives its interface disappearing: a veth (far end in a namespace the test made)
/// is deleted under the running sensor and re-created; capture resumes and later logins are found.
/// </summary>
public sealed class InterfaceLossTests
{
    [Fact]
    public void CaptureResumesWhenTheInterfaceComesBack()
    {
        var tag = (Environment.ProcessId % 10000).ToString("D4");
        var work = Directory.CreateTempSubdirectory("sensor-ifloss-").FullName;
        try
        {
            var first = TestNetwork.RewriteToLoopback(Path.Combine(RepoPaths.Pcaps, "crafted", "pop3-user-pass.pcap"), work);
            var second = TestNetwork.RewriteToLoopback(Path.Combine(RepoPaths.Pcaps, "crafted", "imap-quoted-escapes.pcap"), work);
            using var net = new TestNetwork(tag);
            using var sensor = new LiveSensor(net.Near);

            net.Replay(first);
            sensor.WaitForEvents(1, TimeSpan.FromSeconds(5));
            Assert.Equal("pop3", (string?)Assert.Single(sensor.Events())["app_proto"]);

            net.DeleteLink();
            Assert.True(sensor.Process.WaitForStdErr("disappeared", TimeSpan.FromSeconds(10))
                        || sensor.Process.WaitForStdErr("retrying", TimeSpan.FromSeconds(1)), sensor.Process.StdErr);
            Thread.Sleep(1500);
            Assert.False(sensor.Process.HasExited, "sensor exited when its interface disappeared: " + sensor.Process.StdErr);

            net.CreateLink();
            Assert.True(sensor.Process.WaitForStdErr("capture resumed", TimeSpan.FromSeconds(40)), sensor.Process.StdErr);
            net.Replay(second);
            sensor.WaitForEvents(2, TimeSpan.FromSeconds(5));
            var events = sensor.Events();
            Assert.Equal(2, events.Count);
            Assert.Equal("imap", (string?)events[1]["app_proto"]);
            Assert.Equal("al\"ice", (string?)events[1]["auth"]!["username"]);

            Assert.True(sensor.Process.Signal(Posix.SigTerm, TimeSpan.FromSeconds(5)));
            Assert.Equal(0, sensor.Process.ExitCode);
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }
}

using Sensor.Core.Events;
using Sensor.Core.Flows;
using Sensor.Outputs.Report;

namespace Sensor.Integration.Tests.Report;

/// <summary>The report's collector and timeline fed directly: their bounds and their order independence.</summary>
public sealed class ReportCollectorTests
{
    private static readonly IpEndpoint Server = IpEndpoint.Parse("192.0.2.1", 143);

    private static AuthAttempt Login(long ns, int client, string user, AuthOutcome outcome = AuthOutcome.Failure) => new()
    {
        TimestampNs = ns,
        FlowId = "f",
        Client = IpEndpoint.Parse($"10.{client >> 16 & 255}.{client >> 8 & 255}.{client & 255}", 40000),
        Server = Server,
        Protocol = AppProtocol.Imap,
        Mechanism = "LOGIN",
        Username = user,
        Secret = "never-in-the-report",
        Exposure = CredentialExposure.Cleartext,
        Outcome = outcome,
    };

    [Fact]
    public void TheTimelineOfAYearStaysWithinItsBucketsCountsEveryLoginAndIgnoresArrivalOrder()
    {
        const long Day = 86_400L * 1_000_000_000;
        var random = new Random(7);
        var times = Enumerable.Range(0, 5000).Select(_ => 1_735_812_000L * 1_000_000_000 + random.NextInt64(365 * Day)).ToList();
        var inOrder = new TimelineBuckets();
        foreach (var t in times.Order()) inOrder.Add(t, CredentialExposure.Cleartext, AuthOutcome.Success);
        var shuffled = new TimelineBuckets();
        foreach (var t in times.OrderBy(_ => random.Next())) shuffled.Add(t, CredentialExposure.Cleartext, AuthOutcome.Success);

        var buckets = inOrder.Buckets.ToList();
        Assert.True(buckets[^1].StartSeconds - buckets[0].StartSeconds < TimelineBuckets.MaxBuckets * inOrder.WidthSeconds);
        Assert.Equal(604_800, inOrder.WidthSeconds); // a year does not fit 240 one-day columns; its 53 weeks do
        Assert.Equal(times.Count, buckets.Sum(b => b.Counts.Sum()));
        Assert.Equal(inOrder.WidthSeconds, shuffled.WidthSeconds);
        Assert.Equal(buckets.Select(b => (b.StartSeconds, string.Join(',', b.Counts))), shuffled.Buckets.Select(b => (b.StartSeconds, string.Join(',', b.Counts))));
    }

    [Fact]
    public void ClientsAndUsernamesBeyondTheCapAreCountedNotKeptAndAtMostFiveHundredAreShown()
    {
        var collector = new ReportCollector();
        int logins = ReportCollector.MaxTracked + 2000;
        for (int i = 0; i < logins; i++) collector.Emit(Login(1_735_812_000L * 1_000_000_000 + i, i, $"user{i}"));
        var model = collector.Build();

        Assert.Equal(logins, model.Headline.Logins);
        Assert.Equal(ReportCollector.MaxRowsShown, model.Clients.Rows.Count);
        Assert.Equal(ReportCollector.MaxTracked - ReportCollector.MaxRowsShown, model.Clients.NotShown);
        Assert.Equal(ReportCollector.MaxRowsShown, model.Usernames.Rows.Count);
        Assert.Equal(2000, model.Counters.Single(c => c.Key == "report_clients_not_kept").Value);
        Assert.Equal(2000, model.Counters.Single(c => c.Key == "report_usernames_not_kept").Value);
        Assert.Single(model.Servers.Rows);
        Assert.Equal(logins, model.Servers.Rows[0].Logins);
        var page = ReportPage.Render(model, DateTimeOffset.UnixEpoch, "test");
        Assert.DoesNotContain("never-in-the-report", page);
        Assert.Contains($"{ReportCollector.MaxTracked - ReportCollector.MaxRowsShown:N0} more not shown", page);
    }

    [Fact]
    public void AUsernameCutAtItsBoundNeverLeavesHalfASurrogatePair()
    {
        var collector = new ReportCollector();
        // 255 ASCII characters, then an emoji whose two halves straddle the 256-character cut.
        collector.Emit(Login(0, 1, new string('a', ReportCollector.MaxUsernameLength - 1) + "\U0001F600tail"));
        var name = collector.Build().Usernames.Rows[0].Username!;
        Assert.Equal(ReportCollector.MaxUsernameLength, name.Length);
        Assert.Equal('\uFFFD', name[^1]);
        Assert.Contains("\\ufffd", ReportData.ToJson(collector.Build()), StringComparison.OrdinalIgnoreCase);
    }
}

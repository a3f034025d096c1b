using Sensor.Core.Events;
using Sensor.Fuzz.Targets;

namespace Sensor.Integration.Tests.Fuzz;

/// <summary>
/// Every input that ever made a fuzz target fail (tests/Sensor.Fuzz/regressions/TARGET/) and every
/// seed runs through the same target code as under AFL++ (tests/Sensor.Fuzz.Targets), so a crash
/// fixed once stays fixed and the harness itself stays honest on valid traffic.
/// </summary>
public sealed class FuzzRegressionTests
{
    private static string FuzzDir => Path.Combine(RepoPaths.Root, "tests", "Sensor.Fuzz");

    public static TheoryData<string, string> Regressions() => InputsUnder("regressions");

    public static TheoryData<string, string> Seeds()
    {
        var data = InputsUnder("seeds");
        // The pcap target's seeds are the bundled captures (scripts/fuzz.sh copies them).
        foreach (var f in Directory.EnumerateFiles(RepoPaths.Pcaps, "*", SearchOption.AllDirectories)
                     .Where(f => f.EndsWith(".pcap", StringComparison.Ordinal) || f.EndsWith(".pcapng", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
            data.Add("pcap", Path.GetRelativePath(RepoPaths.Root, f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Regressions))]
    public void AnInputThatOnceFailedPassesItsTargetNow(string target, string file) => Run(target, file);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void EverySeedPassesItsTarget(string target, string file) => Run(target, file);

    [Fact]
    public void EveryTargetHasRegressionInputsAndSeeds()
    {
        // Guards the theories above against silently testing nothing.
        foreach (var target in FuzzTargets.Names)
        {
            Assert.Contains(Regressions(), row => (string)row[0] == target);
            Assert.Contains(Seeds(), row => (string)row[0] == target);
        }
    }

    [Fact]
    public void MailSeedsReachTheImapAndPop3Sessions()
    {
        // A harness that never got past detection would fuzz nothing: most seeds must yield a login.
        var seeds = Directory.GetFiles(Path.Combine(FuzzDir, "seeds", "mail"));
        int withLogin = seeds.Count(f => MailTarget.Analyse(File.ReadAllBytes(f), reveal: false).OfType<AuthAttempt>().Any());
        Assert.True(withLogin >= seeds.Length * 2 / 3, $"only {withLogin} of {seeds.Length} mail seeds give a login");
        var protocols = seeds.SelectMany(f => MailTarget.Analyse(File.ReadAllBytes(f), reveal: false)).Select(e => e.Protocol).Distinct().ToList();
        Assert.Contains(AppProtocol.Imap, protocols);
        Assert.Contains(AppProtocol.Pop3, protocols);
        Assert.Contains(AppProtocol.Smtp, protocols);
    }

    [Fact]
    public void AnInvariantViolationIsReportedAsAFailure()
    {
        // The harness must be able to fail: a revealing analysis carries secrets, which the redaction check refuses.
        var seed = File.ReadAllBytes(Path.Combine(FuzzDir, "seeds", "mail", "pop3-user-pass"));
        var revealed = MailTarget.Analyse(seed, reveal: true);
        Assert.Contains(revealed, e => e is AuthAttempt { Secret: not null });
        Assert.Throws<InvariantViolation>(() => EventChecks.NoSecrets(revealed));
    }

    private static void Run(string target, string file)
    {
        using var fuzzTarget = FuzzTargets.Create(target) ?? throw new ArgumentException($"no fuzz target '{target}'");
        fuzzTarget.Run(File.ReadAllBytes(Path.Combine(RepoPaths.Root, file)));
    }

    private static TheoryData<string, string> InputsUnder(string folder)
    {
        var data = new TheoryData<string, string>();
        foreach (var target in FuzzTargets.Names)
        {
            var dir = Path.Combine(FuzzDir, folder, target);
            if (!Directory.Exists(dir)) continue;
            foreach (var f in Directory.EnumerateFiles(dir).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
                data.Add(target, Path.GetRelativePath(RepoPaths.Root, f));
        }
        return data;
    }
}

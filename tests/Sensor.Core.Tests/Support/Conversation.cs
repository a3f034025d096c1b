using Xunit.Sdk;

namespace Sensor.Core.Tests.Support;

/// <summary>One message of a scripted mail conversation.</summary>
public readonly record struct Step(StreamDirection Direction, byte[] Bytes)
{
    public static Step C(string text) => new(StreamDirection.ClientToServer, Encoding.UTF8.GetBytes(text));
    public static Step S(string text) => new(StreamDirection.ServerToClient, Encoding.UTF8.GetBytes(text));
    public static Step C(byte[] bytes) => new(StreamDirection.ClientToServer, bytes);
    public static Step S(byte[] bytes) => new(StreamDirection.ServerToClient, bytes);

    public override string ToString() => $"{(Direction == StreamDirection.ClientToServer ? "C" : "S")}: {Encoding.UTF8.GetString(Bytes).ReplaceLineEndings("\\n")}";
}

public enum Ending
{
    /// <summary>Both sides send FIN.</summary>
    Fin,
    /// <summary>The capture ends (CloseAll).</summary>
    EndOfInput,
    /// <summary>The server sends FIN first, without answering what is pending; then the client.</summary>
    ServerCloses,
}

/// <summary>
/// Plays scripted conversations through the full path (handshake, reassembler, classifier, session)
/// and re-plays them with every client message cut in two at every byte position.
/// </summary>
public static class Conversation
{
    /// <summary>Plays the script once; <paramref name="splitStep"/>/<paramref name="splitAt"/> cut one message in two.</summary>
    public static MailHarness Play(IReadOnlyList<Step> steps, IpEndpoint server, AnalysisOptions? options = null,
        int splitStep = -1, int splitAt = 0, Ending ending = Ending.Fin)
    {
        var harness = new MailHarness(options);
        var c = harness.Connect(Endpoints.Client, server);
        for (int i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            bool fromClient = step.Direction == StreamDirection.ClientToServer;
            if (i == splitStep && fromClient) c.ClientSendsSplit(step.Bytes, splitAt);
            else if (i == splitStep) c.ServerSendsSplit(step.Bytes, splitAt);
            else if (fromClient) c.ClientSends(step.Bytes);
            else c.ServerSends(step.Bytes);
        }
        if (ending == Ending.Fin) c.FinBoth();
        else if (ending == Ending.ServerCloses) c.ServerCloses();
        harness.Finish();
        return harness;
    }

    /// <summary>
    /// Runs <paramref name="check"/> on the unsplit conversation and on every variant where one client
    /// message (and, when asked, one server message) is sent as two non-empty segments. Returns how
    /// many variants ran.
    /// </summary>
    public static int AtEverySplit(IReadOnlyList<Step> steps, IpEndpoint server, AnalysisOptions options,
        Action<MailHarness> check, Ending ending = Ending.Fin, bool splitServerToo = false)
    {
        int runs = 0;
        Run(-1, 0);
        for (int i = 0; i < steps.Count; i++)
        {
            if (steps[i].Direction != StreamDirection.ClientToServer && !splitServerToo) continue;
            for (int at = 1; at < steps[i].Bytes.Length; at++) Run(i, at);
        }
        return runs;

        void Run(int step, int at)
        {
            runs++;
            var harness = Play(steps, server, options, step, at, ending);
            try
            {
                check(harness);
            }
            catch (Exception e)
            {
                string where = step < 0 ? "unsplit" : $"message {step} ({steps[step]}) cut at byte {at}";
                throw new XunitException($"{where}: {e.Message}");
            }
        }
    }

    public static AuthAttempt SingleAuth(MailHarness h)
    {
        var all = h.Sink.Auths;
        Assert.True(all.Count == 1, $"expected exactly one auth event, got {all.Count}: {string.Join(" | ", all)}");
        return all[0];
    }

    public static void AssertAuth(AuthAttempt e, string mechanism, string? username, string? secret,
        CredentialExposure exposure, AuthOutcome outcome)
    {
        Assert.Equal(mechanism, e.Mechanism);
        Assert.Equal(username, e.Username);
        Assert.Equal(secret, e.Secret);
        Assert.Equal(exposure, e.Exposure);
        Assert.Equal(outcome, e.Outcome);
    }
}

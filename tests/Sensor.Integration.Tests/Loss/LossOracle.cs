namespace Sensor.Integration.Tests.Loss;

/// <summary>
/// What a capture's expected events allow the sensor to report when some of its segments were never
/// captured. The rules are stated on <see cref="SegmentLossTests"/>; each violation is one line naming
/// the rule and the offending (or missing) event.
/// </summary>
internal sealed class LossOracle
{
    private const string Cleartext = "cleartext", Success = "success", Failure = "failure";

    private readonly CapturedFrames _capture;
    private readonly List<MailEvent> _expected;
    private readonly HashSet<string> _usernames;
    private readonly List<ExpectedLogin> _logins = new();
    private readonly Dictionary<Connection, List<int>> _clientFrames = new();

    /// <summary>An expected login and the frame that carries its last credential bytes (-1: none seen).</summary>
    private sealed record ExpectedLogin(MailEvent Event, int CredentialFrame, bool InIntactRun);

    public LossOracle(CapturedFrames capture, IReadOnlyList<MailEvent> expected, IReadOnlyList<MailEvent> intactRun)
    {
        _capture = capture;
        _expected = CompleteConnections(expected, intactRun);
        _usernames = _expected.Where(e => e.IsAuth && e.Username is not null).Select(e => e.Username!).ToHashSet(StringComparer.Ordinal);

        // The credential frame: the k-th expected login of a kind is the k-th such event of the intact
        // run, whose timestamp is the packet time of the segment with the credential's last bytes
        // (README, Events). That segment is the last client payload frame of the connection at or
        // before that time. A login the intact run lacks (a bug GoldenCaptureTests reports) is
        // given the connection's last client payload frame: only an intact client stream obliges.
        var seen = new Dictionary<MailEvent, int>();
        foreach (var login in _expected.Where(e => e.IsAuth && e.Connection.IsComplete))
        {
            var key = LoginKey(login);
            seen[key] = seen.GetValueOrDefault(key) + 1;
            var match = intactRun.Where(login.SameLoginAs).ElementAtOrDefault(seen[key] - 1);
            var client = ClientPayloadFrames(login.Connection);
            int credential = client.Count == 0 ? -1 : client[^1];
            if (match is not null)
            {
                var atOrBefore = client.Where(i => _capture.Frames[i].TimestampNs <= match.TimestampNs).ToList();
                if (atOrBefore.Count > 0) credential = atOrBefore[^1];
            }
            _logins.Add(new ExpectedLogin(login, credential, match is not null));
        }
    }

    public IEnumerable<string> Violations(IReadOnlyList<MailEvent> actual, bool[] dropped)
    {
        var auths = actual.Where(a => a.IsAuth).ToList();

        foreach (var a in auths.Where(a => a.Username is not null && !_usernames.Contains(a.Username)))
            yield return $"rule 1 (a username the capture does not have): {a}";

        foreach (var a in auths.Where(a => a.Outcome is Success or Failure))
        {
            if (!_expected.Any(e => e.IsAuth && e.Connection.Admits(a.Connection) && e.Mechanism == a.Mechanism
                    && (e.Username is null || a.Username is null || e.Username == a.Username) && e.Outcome == a.Outcome))
                yield return $"rule 2 (an outcome the expected events do not have): {a}";
        }

        foreach (var a in auths.Where(a => a.Exposure == Cleartext))
        {
            if (!_expected.Any(e => e.IsAuth && e.Connection.Admits(a.Connection) && e.Mechanism == a.Mechanism && e.Exposure == Cleartext))
                yield return $"rule 3 (cleartext where no password crossed): {a}";
        }

        foreach (var g in auths.GroupBy(a => a.Connection))
        {
            int allowed = _expected.Count(e => e.IsAuth && e.Connection.Admits(g.Key));
            if (g.Count() > allowed)
                yield return $"rule 4 (more logins than expected): {g.Count()} auth events on {g.Key}, expected {allowed}: {string.Join(" | ", g)}";
        }

        foreach (var g in _logins.GroupBy(l => LoginKey(l.Event)))
        {
            var intact = g.Where(l => ClientStreamIntactThrough(l, dropped)).ToList();
            int reported = auths.Count(g.Key.SameLoginAs);
            if (reported < intact.Count)
            {
                var missing = intact[reported];
                string where = missing.CredentialFrame < 0 ? "no client payload" : $"credential in frame #{missing.CredentialFrame + 1}";
                string note = missing.InIntactRun ? "" : "; the intact capture lacks it too";
                yield return $"rule 5 (a login whose client stream arrived intact is reported): missing {missing.Event} " +
                             $"({where}, no client segment lost up to it{note}); reported: {Show(auths)}";
            }
        }

        foreach (var g in actual.Where(a => !a.IsAuth).GroupBy(a => a.Connection))
        {
            int allowed = _expected.Count(e => !e.IsAuth && e.Connection.Admits(g.Key));
            if (g.Count() > allowed)
                yield return $"rule 6 (starttls events the expected file lacks): {g.Count()} on {g.Key}, expected {allowed}: {string.Join(" | ", g)}";
            foreach (var s in g.Where(s => s.Outcome is Success or Failure))
            {
                if (!_expected.Any(e => !e.IsAuth && e.Connection.Admits(s.Connection) && e.Outcome == s.Outcome))
                    yield return $"rule 6 (a starttls outcome the expected events do not have): {s}";
            }
        }
    }

    /// <summary>
    /// Expected files that leave the client's address out (third-party/) name the connection only in
    /// part: the k-th such expected event takes the connection of the k-th intact-run event that
    /// agrees with it on every field it gives (type, mechanism, username, outcome, known endpoints).
    /// One the intact run lacks keeps its partial connection: rules 2-4 and 6 then match on what it
    /// gives, and rule 5 does not apply to it.
    /// </summary>
    private static List<MailEvent> CompleteConnections(IReadOnlyList<MailEvent> expected, IReadOnlyList<MailEvent> intactRun)
    {
        var used = new HashSet<int>();
        var result = new List<MailEvent>();
        foreach (var e in expected)
        {
            if (e.Connection.IsComplete) { result.Add(e); continue; }
            int match = Enumerable.Range(0, intactRun.Count).FirstOrDefault(i => !used.Contains(i)
                && intactRun[i].Type == e.Type && e.Connection.Admits(intactRun[i].Connection)
                && intactRun[i].Mechanism == e.Mechanism && intactRun[i].Username == e.Username
                && intactRun[i].Outcome == e.Outcome, -1);
            if (match < 0) { result.Add(e); continue; }
            used.Add(match);
            result.Add(e with { Connection = intactRun[match].Connection });
        }
        return result;
    }

    private static MailEvent LoginKey(MailEvent login) => login with { Outcome = null, Exposure = null };

    /// <summary>
    /// The client stream is whole from its start through the credential: the connection's SYN is in the
    /// capture (a capture that begins mid-connection misses an unknown part of it, as after a loss) and
    /// no client payload segment was dropped at or before the credential frame.
    /// </summary>
    private bool ClientStreamIntactThrough(ExpectedLogin login, bool[] dropped)
    {
        if (!OpensInCapture(login.Event.Connection)) return false;
        int answer = AnswerFrame(login, dropped);
        return !ClientPayloadFrames(login.Event.Connection).Any(i => i <= Math.Max(login.CredentialFrame, answer) && dropped[i]);
    }

    /// <summary>
    /// The answer as the sensor sees it: the first server payload frame of the connection after the
    /// credential frame that was not dropped (-1: none).
    /// </summary>
    private int AnswerFrame(ExpectedLogin login, bool[] dropped)
    {
        var c = login.Event.Connection;
        for (int i = login.CredentialFrame + 1; i < _capture.Frames.Count; i++)
        {
            var f = _capture.Frames[i];
            if (f.CarriesPayload && !dropped[i] && Connection.Of(f.Destination, f.Source) == c) return i;
        }
        return -1;
    }

    private bool OpensInCapture(Connection c) =>
        _capture.Frames.Any(f => f.OpensConnection && Connection.Of(f.Source, f.Destination) == c);

    private List<int> ClientPayloadFrames(Connection c)
    {
        if (!_clientFrames.TryGetValue(c, out var list))
        {
            list = Enumerable.Range(0, _capture.Frames.Count)
                .Where(i => _capture.Frames[i].CarriesPayload && Connection.Of(_capture.Frames[i].Source, _capture.Frames[i].Destination) == c)
                .ToList();
            _clientFrames[c] = list;
        }
        return list;
    }

    private static string Show(IReadOnlyCollection<MailEvent> events) => events.Count == 0 ? "(none)" : string.Join(" | ", events);
}

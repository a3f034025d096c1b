using System.Text;
using Sensor.Core.Events;
using Sensor.Core.Guessing;
using Sensor.Core.Health;
using Sensor.Core.Mail;
using Sensor.Outputs.EventLog;
using Sensor.Outputs.Metrics;

namespace Sensor.Outputs.Summary;

/// <summary>
/// Tallies events and counters over a run and renders the end-of-run report: sessions, logins by
/// protocol/mechanism/outcome, STARTTLS, servers that offer TLS yet see cleartext logins, and every
/// skip and bound hit.
/// </summary>
public sealed class RunSummary : IEventSink
{
    private readonly SortedDictionary<string, long> _logins = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, long> _startTls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Proto, long Cleartext)> _servers = new();
    private readonly SortedSet<string> _authBeforeStartTls = new(StringComparer.Ordinal);
    private readonly SensorCounters _totals = new();
    private readonly List<string> _fileProblems = new();
    private const int GuessingShown = 20;
    private readonly List<string> _guessing = new(); // the first few alerts; the rest only counted
    private long _guessingAlerts;
    private long _serversReported, _serversEvicted;
    private int _filesRead;
    private int _filesFailed;

    public void Emit(SensorEvent e)
    {
        var proto = EventNames.Of(e.Protocol);
        switch (e)
        {
            case AuthAttempt a:
                // By the metrics' fixed mechanism set: a table that cannot grow with what clients send,
                // and no wire text on the terminal.
                Bump(_logins, $"{proto,-5} {MechanismTag.Of(a.Mechanism),-16} {EventNames.Of(a.Exposure),-10} {EventNames.Of(a.Outcome)}");
                break;
            case StartTlsUpgrade s:
                Bump(_startTls, $"{proto,-5} {EventNames.Of(s.Outcome)}");
                break;
            case PasswordGuessing g:
                if (_guessingAlerts++ >= GuessingShown) break;
                _guessing.Add($"{EventNames.Of(g.Protocol)} {g.Client.AddressText} -> {EventNames.Where(g.Server, g.Tunnel)}: {(g.Kind == GuessingKind.Spraying ? "spraying" : "guessing")}, {g.Failures} failures, {g.DistinctUsernames} usernames");
                break;
        }
    }

    public void AddFile(string path, bool read, string? problem)
    {
        if (read) _filesRead++; else _filesFailed++;
        if (problem is not null) _fileProblems.Add(Diagnostics.ControlCharacterEscaper.Escape($"{path}: {problem}"));
    }

    /// <summary>Adds one pipeline's counters and server postures (one pipeline per capture file).</summary>
    public void AddPipeline(SensorCounters counters, ServerPostureTable servers)
    {
        _totals.AddRun(counters);
        _serversReported += servers.Count;
        _serversEvicted += servers.Evicted;
        foreach (var s in servers.All)
        {
            if (s.AuthBeforeStartTls) _authBeforeStartTls.Add($"{EventNames.Of(s.Protocol)} {EventNames.Where(s.Server, s.Tunnel)}");
            if (s.OffersStartTls != true || s.CleartextLogins == 0) continue;
            var key = EventNames.Where(s.Server, s.Tunnel);
            _servers.TryGetValue(key, out var prev);
            _servers[key] = (EventNames.Of(s.Protocol), prev.Cleartext + s.CleartextLogins);
        }
    }

    /// <summary>The run's password-guessing detector, for its table sizes and evictions.</summary>
    public PasswordGuessingDetector? Guessing { get; set; }

    /// <summary>Lines about the metrics path, when metrics were written.</summary>
    public string? MetricsLine { get; set; }

    /// <summary>What a read filter left out, when one was given.</summary>
    public string? FilterLine { get; set; }

    public string Render()
    {
        var c = _totals;
        var sb = new StringBuilder();
        sb.AppendLine("== Summary");
        sb.AppendLine($"files read: {_filesRead}{(_filesFailed > 0 ? $", unreadable: {_filesFailed}" : "")}");
        foreach (var p in _fileProblems) sb.AppendLine($"  problem: {p}");
        sb.AppendLine($"packets: {c.PacketsRead}  bytes: {c.BytesRead}  (not IP: {c.PacketsNotIp}, not TCP: {c.PacketsNotTcp}, " +
                      $"malformed: {c.PacketsMalformed}, cut by snap length: {c.PacketsTruncatedBySnaplen})");
        if (c.IpFragments > 0)
            sb.AppendLine($"IP fragments: {c.IpFragments}  datagrams reassembled: {c.IpDatagramsReassembled}  (duplicate fragments {c.IpFragmentsDuplicate}, " +
                          $"overlaps with different bytes {c.IpFragmentOverlapConflicts} (first kept), unusable fragments {c.IpFragmentsInvalid}; datagrams dropped {c.IpFragmentDatagramsDropped}, " +
                          $"timed out {c.IpFragmentDatagramsTimedOut}, evicted at the bounds {c.IpFragmentDatagramsEvicted}, incomplete at the end {c.IpFragmentDatagramsIncomplete})");
        string layers = Layers(c);
        if (layers.Length > 0 || c.PacketsEncapsulationUnknown > 0 || c.PacketsTooDeep > 0)
            sb.AppendLine($"arrived in: {(layers.Length > 0 ? layers : "-")}  (unknown encapsulation {c.PacketsEncapsulationUnknown}, too deep {c.PacketsTooDeep})");
        sb.AppendLine($"TCP connections: {c.FlowsCreated}  IMAP sessions: {c.FlowsImap}  POP3 sessions: {c.FlowsPop3}  SMTP sessions: {c.FlowsSmtp}  " +
                      $"not mail: {c.FlowsNotMail} (of them on a mail port: {c.MailPortFlowsNotMail})");
        long logins = _logins.Values.Sum();
        sb.AppendLine($"logins: {logins}");
        foreach (var (k, v) in _logins) sb.AppendLine($"  {k,-48} {v}");
        long tls = _startTls.Values.Sum();
        sb.AppendLine($"STARTTLS commands: {tls}");
        foreach (var (k, v) in _startTls) sb.AppendLine($"  {k,-48} {v}");
        sb.AppendLine($"password guessing / spraying alerts: {_guessingAlerts}");
        foreach (var g in _guessing) sb.AppendLine($"  {g}");
        if (_guessingAlerts > GuessingShown) sb.AppendLine($"  ... and {_guessingAlerts - GuessingShown} more");
        if (Guessing is { } d)
            sb.AppendLine($"  tracked at the end: {d.ClientsTracked} clients, {d.UsernamesTracked} usernames; " +
                          $"evicted at the caps: {d.ClientsEvicted} clients, {d.UsernamesEvicted} usernames");
        sb.AppendLine($"servers offering STARTTLS that saw cleartext logins: {_servers.Count}");
        foreach (var (k, v) in _servers.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.AppendLine($"  {v.Proto} {k}  cleartext logins: {v.Cleartext}");
        sb.AppendLine($"SMTP servers offering AUTH before STARTTLS: {_authBeforeStartTls.Count}");
        sb.AppendLine($"server inventory: {_serversReported} server events (one per server and file), {_serversEvicted} servers evicted at the cap (Inventory:MaxServers)");
        foreach (var s in _authBeforeStartTls.Take(GuessingShown)) sb.AppendLine($"  {s}");
        if (_authBeforeStartTls.Count > GuessingShown) sb.AppendLine($"  ... and {_authBeforeStartTls.Count - GuessingShown} more");
        sb.AppendLine($"reassembly: gaps {c.Gaps} ({c.GapBytes} bytes), out-of-order segments {c.SegmentsOutOfOrder}, " +
                      $"duplicate bytes {c.BytesDuplicate}, peak buffered {c.BytesBufferedPeak} bytes, " +
                      $"buffer limit hits {c.FlowBufferLimitHits + c.GlobalBufferLimitHits}, flows evicted {c.FlowsEvictedAtLimit}, expired {c.FlowsExpired}");
        sb.AppendLine($"skipped: lines too long {c.LinesTooLong} (line budget full {c.LineBudgetHits}), malformed lines {c.MalformedLines}, literals {c.LiteralsSkipped} " +
                      $"({c.LiteralBytesSkipped} bytes), SMTP message bodies {c.MessageBodiesSkipped} ({c.MessageBodyBytesSkipped} bytes), unmatched responses {c.UnmatchedResponses}, SASL exchanges aborted before any credential {c.SaslExchangesAbortedEmpty}, pending-command overflows {c.PendingCommandOverflows}, " +
                      $"segments without a connection {c.SegmentsWithoutFlow}");
        sb.AppendLine($"after losses: credentials no answer proved {c.CredentialsUnproven}, answers that could not be paired {c.AnswersAfterLoss}, " +
                      $"order of answers recovered {c.AnswerOrderRecovered}, TLS found where the STARTTLS exchange was lost {c.TlsWithoutStartTlsSeen}; analyzer faults {c.AnalyzerFaults} (each gave up one connection)");
        if (FilterLine is not null) sb.AppendLine(FilterLine);
        if (MetricsLine is not null) sb.AppendLine(MetricsLine);
        return sb.ToString();
    }

    private static string Layers(SensorCounters c)
    {
        var parts = new List<string>();
        void Part(string name, long n) { if (n > 0) parts.Add($"{name} {n}"); }
        Part("VLAN", c.PacketsInVlan);
        Part("MPLS", c.PacketsInMpls);
        Part("PPPoE", c.PacketsInPppoe);
        Part("GRE", c.PacketsInGre);
        Part("ERSPAN", c.PacketsInErspan);
        Part("VXLAN", c.PacketsInVxlan);
        Part("GENEVE", c.PacketsInGeneve);
        Part("IP-in-IP", c.PacketsInIpInIp);
        return string.Join(", ", parts);
    }

    private static void Bump(SortedDictionary<string, long> d, string key) => d[key] = d.GetValueOrDefault(key) + 1;
}

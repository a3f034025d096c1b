namespace Sensor.Outputs.Report;

/// <summary>
/// Everything the report shows, already bounded and ordered: the page and its embedded data section
/// are both rendered from this, so what the golden test compares is what the analyst reads. Wire text
/// (usernames, mechanisms, file names) is held raw here and escaped by each renderer.
/// </summary>
public sealed record ReportModel
{
    public required ReportHeadline Headline { get; init; }
    public required RowsShown<ServerRow> Servers { get; init; }
    public required RowsShown<ClientRow> Clients { get; init; }
    public required RowsShown<UsernameRow> Usernames { get; init; }
    public required RowsShown<EpisodeRow> Episodes { get; init; }
    public required TimelineBuckets Timeline { get; init; }
    public required RowsShown<FileRow> Files { get; init; }
    /// <summary>Every skip, bound and loss of the run, in a fixed order.</summary>
    public required IReadOnlyList<CounterRow> Counters { get; init; }
    /// <summary>Why the report may be missing something (reading stopped early), or null.</summary>
    public string? Incomplete { get; init; }
}

/// <summary>The first rows of a table and how many more there were.</summary>
public sealed record RowsShown<T>(IReadOnlyList<T> Rows, long NotShown);

public sealed record ReportHeadline
{
    public required int CapturesRead { get; init; }
    public required int CapturesUnreadable { get; init; }
    public required long Packets { get; init; }
    public required long Connections { get; init; }
    public required long MailSessions { get; init; }
    public required long Logins { get; init; }
    public required long CleartextLogins { get; init; }
    public required long CleartextAccepted { get; init; }
    public required long Failures { get; init; }
    public required long GuessingEpisodes { get; init; }
    public required long StartTlsUpgrades { get; init; }
    public required long StartTlsRefused { get; init; }
    public long? FirstLoginNs { get; init; }
    public long? LastLoginNs { get; init; }
}

/// <summary>One server (address, port and protocol) with its posture and its logins.</summary>
public sealed record ServerRow
{
    public required string Server { get; init; }
    public required string SortKey { get; init; }
    public required string Protocol { get; init; }
    /// <summary>STARTTLS/STLS advertised (null: no capability list seen).</summary>
    public bool? OffersStartTls { get; init; }
    public required long StartTlsUpgrades { get; init; }
    public required long StartTlsRefused { get; init; }
    public required bool LoginDisabled { get; init; }
    public required bool AuthBeforeStartTls { get; init; }
    public required long Logins { get; init; }
    public required long CleartextLogins { get; init; }
    public required long CleartextAccepted { get; init; }
    public required long Failures { get; init; }
    public double? FailureRate { get; init; }
}

public sealed record ClientRow
{
    public required string Client { get; init; }
    public required string SortKey { get; init; }
    public required IReadOnlyList<string> Protocols { get; init; }
    public required long Logins { get; init; }
    public required long CleartextLogins { get; init; }
    public required long Failures { get; init; }
    public required int Servers { get; init; }
    public required bool ServersCapped { get; init; }
}

public sealed record UsernameRow
{
    /// <summary>As sent (raw wire text, at most <see cref="ReportCollector.MaxUsernameLength"/> characters), or null when none was sent.</summary>
    public string? Username { get; init; }
    public required IReadOnlyList<string> Mechanisms { get; init; }
    public required bool MechanismsCapped { get; init; }
    public required IReadOnlyList<string> Protocols { get; init; }
    public required long Logins { get; init; }
    public required long CleartextLogins { get; init; }
    public required long Successes { get; init; }
    public required long Failures { get; init; }
    public required int Clients { get; init; }
    public required bool ClientsCapped { get; init; }
}

public sealed record EpisodeRow
{
    public required long TimestampNs { get; init; }
    public required string Protocol { get; init; }
    public required string Kind { get; init; }
    public required string Client { get; init; }
    public required string ClientSortKey { get; init; }
    public required string Server { get; init; }
    public required long Failures { get; init; }
    public required long Usernames { get; init; }
    public string? Username { get; init; }
    public required int WindowSeconds { get; init; }
}

/// <summary>One capture file or folder entry of the run and what became of it.</summary>
public sealed record FileRow(string Path, bool Read, string? Problem);

/// <summary>One counter of the run (volumes, and every skip, bound hit and loss): its name in the data, its words on the page.</summary>
public sealed record CounterRow(string Key, string Label, long Value);

namespace Sensor.Core.Events;

public enum GuessingKind : byte
{
    /// <summary>Many failed logins from one client, or against one username.</summary>
    Guessing,
    /// <summary>One client failing with many different usernames (password spraying).</summary>
    Spraying,
}

/// <summary>
/// A password-guessing episode crossed its threshold (event_type "bruteforce"). Emitted once per
/// episode; the episode ends after a quiet window. <see cref="SensorEvent.Server"/> is the server of
/// the failure that crossed the threshold.
/// </summary>
public sealed record PasswordGuessing : SensorEvent
{
    public required GuessingKind Kind { get; init; }
    /// <summary>Failed logins in the window when the threshold was crossed.</summary>
    public required long Failures { get; init; }
    /// <summary>Distinct usernames among those failures.</summary>
    public required long DistinctUsernames { get; init; }
    /// <summary>The username, when the episode is against one account.</summary>
    public string? Username { get; init; }
    public required int WindowSeconds { get; init; }
}

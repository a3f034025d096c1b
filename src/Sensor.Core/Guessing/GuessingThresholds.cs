namespace Sensor.Core.Guessing;

public sealed record GuessingThresholds
{
    /// <summary>Sliding window, in packet time.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Failed logins from one client (or against one username) in the window that make an episode.</summary>
    public int Failures { get; init; } = 10;
    /// <summary>Distinct usernames failing from one client in the window that make a spraying episode.</summary>
    public int SprayUsernames { get; init; } = 5;
    /// <summary>Clients tracked at once; beyond it the least recently failing one is forgotten (counted).</summary>
    public int MaxClients { get; init; } = 50_000;
    /// <summary>Usernames tracked at once; beyond it the least recently failing one is forgotten (counted).</summary>
    public int MaxUsernames { get; init; } = 50_000;
}

using Sensor.Core.Events;

namespace Sensor.Outputs.Report;

/// <summary>Logins counted by what crossed the wire and what the server answered, for one row of the report.</summary>
public sealed class LoginTally
{
    public long Logins { get; private set; }
    public long Cleartext { get; private set; }
    /// <summary>Cleartext logins the server accepted: a password that was readable and is known to work.</summary>
    public long CleartextAccepted { get; private set; }
    public long Successes { get; private set; }
    public long Failures { get; private set; }
    public long FirstNs { get; private set; } = long.MaxValue;
    public long LastNs { get; private set; } = long.MinValue;

    public void Add(AuthAttempt a)
    {
        Logins++;
        if (a.Exposure == CredentialExposure.Cleartext)
        {
            Cleartext++;
            if (a.Outcome == AuthOutcome.Success) CleartextAccepted++;
        }
        if (a.Outcome == AuthOutcome.Success) Successes++;
        else if (a.Outcome == AuthOutcome.Failure) Failures++;
        FirstNs = Math.Min(FirstNs, a.TimestampNs);
        LastNs = Math.Max(LastNs, a.TimestampNs);
    }

    /// <summary>Failures among the logins whose answer was seen, or null when none was.</summary>
    public double? FailureRate => Successes + Failures == 0 ? null : (double)Failures / (Successes + Failures);
}

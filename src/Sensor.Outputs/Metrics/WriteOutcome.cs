namespace Sensor.Outputs.Metrics;

/// <summary>What became of one write request.</summary>
public enum WriteOutcomeKind
{
    /// <summary>The server took every point (2xx).</summary>
    Accepted,
    /// <summary>
    /// The server refused points as data (400 bad line protocol or field type conflict, 422 e.g.
    /// outside the retention): <see cref="WriteOutcome.Refused"/> of them; it kept the others.
    /// Sending them again would be refused again.
    /// </summary>
    Refused,
    /// <summary>413: the request is too large; a smaller one may pass.</summary>
    TooLarge,
    /// <summary>
    /// The points did not get in, through no fault of theirs: no answer, or an answer saying the
    /// server is not ready for them (401, 403, 404, 408, 429, 5xx). They wait and are sent again.
    /// </summary>
    NotDelivered,
    /// <summary>The shutdown deadline cancelled the request; the points go to the spool.</summary>
    Cancelled,
}

/// <param name="Status">The HTTP status, 0 when no answer came.</param>
/// <param name="Refused">For <see cref="WriteOutcomeKind.Refused"/>: how many points the server dropped.</param>
/// <param name="Message">The server's words on one line, or the reason no answer came ("connection refused").</param>
/// <param name="Endpoint">The path that answered (/write, /api/v2/write, /query, /ping).</param>
/// <param name="Problem">A complete description replacing the usual "answers STATUS" wording.</param>
public sealed record WriteOutcome(
    WriteOutcomeKind Kind, int Status = 0, int Refused = 0, string Message = "", string Endpoint = "", string? Problem = null)
{
    public static readonly WriteOutcome Accepted = new(WriteOutcomeKind.Accepted, 204);
    public static readonly WriteOutcome Cancelled = new(WriteOutcomeKind.Cancelled);

    public static WriteOutcome NoAnswer(string reason, string endpoint) => new(WriteOutcomeKind.NotDelivered, 0, 0, reason, endpoint);
}

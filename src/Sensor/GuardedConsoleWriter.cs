using System.Text;

namespace Sensor;

/// <summary>
/// Console.Out or Console.Error as the commands' text goes through it (help, --version, `interfaces`,
/// the summary on stderr), with a failed write (a full disk, a closed descriptor, a reader gone)
/// remembered instead of thrown: such a failure is the end of that output, not a bug to report with
/// a stack trace. Findings do not go this way: they are written with write(2) and checked there.
/// </summary>
internal sealed class GuardedConsoleWriter(TextWriter inner) : TextWriter
{
    /// <summary>Why the first write failed; null while every write has succeeded.</summary>
    public string? Failure { get; private set; }

    public override Encoding Encoding => inner.Encoding;
    public override IFormatProvider FormatProvider => inner.FormatProvider;
    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override string NewLine { get => inner.NewLine; set => inner.NewLine = value; }

    public override void Write(char value) => Guard(() => inner.Write(value));
    public override void Write(string? value) => Guard(() => inner.Write(value));
    public override void Write(char[] buffer, int index, int count) => Guard(() => inner.Write(buffer, index, count));
    public override void Write(ReadOnlySpan<char> buffer)
    {
        if (Failure is not null) return;
        try { inner.Write(buffer); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Failure = e.Message; }
    }
    public override void WriteLine(string? value) => Guard(() => inner.WriteLine(value));
    public override void Flush() => Guard(inner.Flush);

    private void Guard(Action write)
    {
        if (Failure is not null) return; // one failure ends this output: later writes would fail alike
        try { write(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Failure = e.Message; }
    }
}

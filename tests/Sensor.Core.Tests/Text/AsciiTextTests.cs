using Sensor.Core.Text;

namespace Sensor.Core.Tests.Text;

/// <summary>Protocol keywords matched on raw bytes: case-insensitive for ASCII letters only.</summary>
public sealed class AsciiTextTests
{
    [Theory]
    [InlineData("LOGIN", true)]
    [InlineData("login", true)]
    [InlineData("LoGiN", true)]
    [InlineData("LOGINX", false)]
    [InlineData("LOGI", false)]
    [InlineData("", false)]
    [InlineData("L0GIN", false)]
    public void KeywordsMatchWhateverTheClientsCase(string word, bool expected) =>
        Assert.Equal(expected, AsciiText.EqualsIgnoreCase(Encoding.ASCII.GetBytes(word), "LOGIN"u8));

    [Fact]
    public void OnlyLettersFoldCase()
    {
        // '{' and '[' , '`' and '@' differ by the same bit as 'a' and 'A', but are not letters.
        Assert.False(AsciiText.EqualsIgnoreCase("{"u8, "["u8));
        Assert.False(AsciiText.EqualsIgnoreCase("`"u8, "@"u8));
        Assert.True(AsciiText.EqualsIgnoreCase("[]"u8, "[]"u8));
    }

    [Fact]
    public void NonAsciiBytesNeverMatchAnAsciiKeyword()
    {
        // 0xC9 is 'I' with the case bit of 'i' clear and the high bit set; 0xE9 likewise for 'i'.
        Assert.False(AsciiText.EqualsIgnoreCase([(byte)'L', (byte)'O', (byte)'G', 0xC9, (byte)'N'], "LOGIN"u8));
        Assert.False(AsciiText.StartsWithIgnoreCase([(byte)'+', (byte)'O', 0xCB], "+OK"u8));
    }

    [Theory]
    [InlineData("+OK Dovecot ready.", true)]
    [InlineData("+ok", true)]
    [InlineData("+OK", true)]
    [InlineData("+O", false)]
    [InlineData("-ERR", false)]
    [InlineData(" +OK", false)]
    public void StartsWithIsCaseInsensitiveAndNeedsTheWholePrefix(string line, bool expected) =>
        Assert.Equal(expected, AsciiText.StartsWithIgnoreCase(Encoding.ASCII.GetBytes(line), "+OK"u8));

    [Theory]
    [InlineData("  dXNlcg==\t ", "dXNlcg==")]
    [InlineData("\t\t", "")]
    [InlineData("", "")]
    [InlineData("a b", "a b")]
    public void TrimSpacesTakesSpacesAndTabsFromBothEnds(string text, string expected) =>
        Assert.Equal(expected, Encoding.ASCII.GetString(AsciiText.TrimSpaces(Encoding.ASCII.GetBytes(text))));

    [Fact]
    public void TrimSpacesLeavesOtherWhitespaceAlone()
    {
        // A stray CR (a bare-LF client, or "\r\r\n") is data to the grammar, not padding.
        Assert.Equal("\rabc\r\n"u8.ToArray(), AsciiText.TrimSpaces(" \rabc\r\n "u8).ToArray());
        Assert.Equal("\vx\f"u8.ToArray(), AsciiText.TrimSpaces("\vx\f"u8).ToArray());
    }

    [Fact]
    public void NextWordSplitsAtTheFirstSpace()
    {
        ReadOnlySpan<byte> rest = "a1 LOGIN  alice"u8;
        Assert.Equal("a1"u8.ToArray(), AsciiText.NextWord(ref rest).ToArray());
        Assert.Equal("LOGIN"u8.ToArray(), AsciiText.NextWord(ref rest).ToArray());
        Assert.Equal(""u8.ToArray(), AsciiText.NextWord(ref rest).ToArray());
        Assert.Equal("alice"u8.ToArray(), AsciiText.NextWord(ref rest).ToArray());
        Assert.True(rest.IsEmpty);
    }

    [Theory]
    [InlineData("plain", "PLAIN")]
    [InlineData("Digest-MD5", "DIGEST-MD5")]
    [InlineData("SCRAM-SHA-256", "SCRAM-SHA-256")]
    [InlineData("", "")]
    public void MechanismNamesAreUpperCased(string name, string expected) =>
        Assert.Equal(expected, AsciiText.ToUpperString(Encoding.ASCII.GetBytes(name)));

    [Fact]
    public void NonAsciiBytesInAMechanismNameBecomeQuestionMarks()
    {
        Assert.Equal("X?Y??Z", AsciiText.ToUpperString([(byte)'x', 0xE9, (byte)'y', 0xC3, 0xA9, (byte)'z']));
        Assert.Equal("?", AsciiText.ToUpperString([0xFF]));
    }
}

using System.Globalization;
using Sensor.Outputs.EventLog;

namespace Sensor.Integration.Tests.EventLog;

/// <summary>The hand-written timestamp is the text the custom DateTime format gave, for every time a capture can hold.</summary>
public sealed class EventNamesTests
{
    private static string ByFormat(long ns) =>
        DateTime.UnixEpoch.AddTicks(ns / 100).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(99L)]
    [InlineData(-1L)]
    [InlineData(-99L)]
    [InlineData(-100L)]
    [InlineData(-1_000_000_001L)]
    [InlineData(999_999_999L)]
    [InlineData(1_735_812_000_123_456_789L)]
    [InlineData((long)int.MinValue * 1_000_000_000L)] // pcap seconds are signed 32-bit
    [InlineData((long)int.MaxValue * 1_000_000_000L + 999_999_999L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)] // the clock before any packet: 1677, still in DateTime's range
    public void Timestamp_IsTheCustomFormat(long ns) => Assert.Equal(ByFormat(ns), EventNames.Timestamp(ns));

    [Fact]
    public void Timestamp_IsTheCustomFormat_AcrossTheRange()
    {
        var random = new Random(1);
        for (int i = 0; i < 100_000; i++)
        {
            long ns = random.NextInt64(long.MinValue, long.MaxValue);
            Assert.Equal(ByFormat(ns), EventNames.Timestamp(ns));
        }
    }
}

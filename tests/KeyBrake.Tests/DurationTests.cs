namespace KeyBrake.Tests;

public sealed class DurationTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("4h", 14400)]
    [InlineData("7d", 604800)]
    public void TryParseShort_Valid(string text, int seconds)
    {
        Assert.True(Duration.TryParseShort(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("4")]
    [InlineData("h")]
    [InlineData("4H")]
    [InlineData("-4h")]
    [InlineData("4.5h")]
    [InlineData("4 h")]
    [InlineData("99999999999d")]
    public void TryParseShort_Invalid(string text) => Assert.False(Duration.TryParseShort(text, out _));

    [Fact]
    public void TryParseConfig_AcceptsZeroAndTimeSpanText()
    {
        Assert.True(Duration.TryParseConfig("0", out var zero) && zero == TimeSpan.Zero);
        Assert.True(Duration.TryParseConfig("00:05:00", out var five) && five == TimeSpan.FromMinutes(5));
        Assert.False(Duration.TryParseConfig("-00:05:00", out _));
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(500, "500 ms")]
    [InlineData(1_000, "1s")]
    [InlineData(90_000, "90s")]
    [InlineData(600_000, "10m")]
    [InlineData(14_400_000, "4h")]
    [InlineData(604_800_000, "7d")]
    public void Format_LargestWholeUnit(long milliseconds, string expected) =>
        Assert.Equal(expected, Duration.Format(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void Format_LessThanAMillisecond_TimeSpanText() =>
        Assert.Equal("00:00:00.0001500", Duration.Format(TimeSpan.FromTicks(1500)));
}

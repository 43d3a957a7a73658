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
}

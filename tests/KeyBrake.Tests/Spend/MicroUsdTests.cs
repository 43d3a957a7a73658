using KeyBrake.Spend;

namespace KeyBrake.Tests.Spend;

public sealed class MicroUsdTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("5000", 5_000_000_000L)]
    [InlineData("0.000001", 1L)]
    [InlineData("12.345678", 12_345_678L)]
    [InlineData("1000000000", 1_000_000_000_000_000L)]
    public void TryFromUsd_Exact(string usd, long micros)
    {
        Assert.True(MicroUsd.TryFromUsd(decimal.Parse(usd, System.Globalization.CultureInfo.InvariantCulture), out var value));
        Assert.Equal(micros, value.Value);
    }

    [Theory]
    [InlineData("-0.01")]
    [InlineData("0.0000001")]
    [InlineData("1000000000.000001")]
    public void TryFromUsd_Refused(string usd) =>
        Assert.False(MicroUsd.TryFromUsd(decimal.Parse(usd, System.Globalization.CultureInfo.InvariantCulture), out _));

    [Theory]
    [InlineData(50_500_000L, "50.5")]
    [InlineData(1L, "0.000001")]
    [InlineData(0L, "0")]
    public void ToString_IsInvariantDecimalUsd(long micros, string text) => Assert.Equal(text, new MicroUsd(micros).ToString());
}

namespace KeyBrake.Tests;

public sealed class KeysOptionsValidatorTests
{
    private static readonly KeysOptionsValidator Validator = new();

    [Fact]
    public void Validate_Defaults_NoError() => Assert.Empty(Validator.Errors(new KeyBrakeOptions()));

    [Fact]
    public void Validate_ZeroMaxTtl_IsAnError() =>
        Assert.Equal(["KeyBrake:Keys:MaxTtl: '0' must be a positive duration."],
            Validator.Errors(new KeyBrakeOptions { Keys = new() { MaxTtl = TimeSpan.Zero } }));

    [Fact]
    public void Validate_ZeroDefaultTtl_IsAnError() =>
        Assert.Equal(["KeyBrake:Keys:DefaultTtl: '0' must be a positive duration no longer than MaxTtl."],
            Validator.Errors(new KeyBrakeOptions { Keys = new() { DefaultTtl = TimeSpan.Zero } }));

    [Theory]
    [InlineData(24, false)]
    [InlineData(25, true)]
    public void Validate_DefaultTtl_NoLongerThanMaxTtl(int hours, bool error) =>
        Assert.Equal(error ? [$"KeyBrake:Keys:DefaultTtl: '{hours}h' must be a positive duration no longer than MaxTtl."] : [],
            Validator.Errors(new KeyBrakeOptions { Keys = new() { MaxTtl = TimeSpan.FromDays(1), DefaultTtl = TimeSpan.FromHours(hours) } }));
}

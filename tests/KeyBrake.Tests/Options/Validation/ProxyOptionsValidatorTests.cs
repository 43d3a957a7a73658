namespace KeyBrake.Tests;

public sealed class ProxyOptionsValidatorTests
{
    private static readonly ProxyOptionsValidator Validator = new();

    [Fact]
    public void Validate_Defaults_NoError() => Assert.Empty(Validator.Errors(new KeyBrakeOptions()));

    [Theory]
    [InlineData(0L, true)]
    [InlineData(67_108_865L, true)]
    [InlineData(1L, false)]
    public void Validate_MaxBodyBytes_OneTo64MiB(long bytes, bool error) =>
        Assert.Equal(error, Validator.Errors(new KeyBrakeOptions { Proxy = new() { MaxBodyBytes = bytes } })
            .Contains($"KeyBrake:Proxy:MaxBodyBytes: {bytes} must be between 1 and 67108864."));

    [Fact]
    public void Validate_InFlightSmallerThanOneBody_IsAnError() =>
        Assert.Equal(["KeyBrake:Proxy:MaxInFlightBodyBytes: 1024 must be positive and at least KeyBrake:Proxy:MaxBodyBytes (2048)."],
            Validator.Errors(new KeyBrakeOptions { Proxy = new() { MaxBodyBytes = 2048, MaxInFlightBodyBytes = 1024 } }));

    [Fact]
    public void Validate_ZeroUpstreamTimeout_IsAnError() =>
        Assert.Equal(["KeyBrake:Proxy:UpstreamTimeout: '0' must be a positive duration."],
            Validator.Errors(new KeyBrakeOptions { Proxy = new() { UpstreamTimeout = TimeSpan.Zero } }));

    [Theory]
    [InlineData(600, false)]
    [InlineData(601, true)]
    [InlineData(0, true)]
    public void Validate_DrainTimeout_PositiveAtMostTenMinutes(int seconds, bool error) =>
        Assert.Equal(error ? [$"KeyBrake:Proxy:DrainTimeout: '{Duration.Format(TimeSpan.FromSeconds(seconds))}' must be a positive duration of at most 10m."] : [],
            Validator.Errors(new KeyBrakeOptions { Proxy = new() { DrainTimeout = TimeSpan.FromSeconds(seconds) } }));
}

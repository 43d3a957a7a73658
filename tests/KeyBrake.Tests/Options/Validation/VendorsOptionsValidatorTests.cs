namespace KeyBrake.Tests;

public sealed class VendorsOptionsValidatorTests
{
    private static readonly VendorsOptionsValidator Validator = new();

    [Fact]
    public void Validate_Defaults_NoError() => Assert.Empty(Validator.Errors(OptionsValidation.Defaults()));

    [Fact]
    public void Validate_NoVendor_IsAnError() =>
        Assert.Equal(["KeyBrake:Vendors: at least one vendor must be configured."], Validator.Errors(new KeyBrakeOptions()));

    [Fact]
    public void Validate_EveryBadField_ListsEach()
    {
        var options = With(new VendorOptions { Upstream = "https://api.stripe.com/v1", SecretName = " ", Auth = "Digest", Port = 0 }, "paypal");

        Assert.Equal(
            [
                "KeyBrake:Vendors:paypal: unknown vendor; KeyBrake authenticates and prices stripe, twilio, resend.",
                "KeyBrake:Vendors:paypal:Upstream: 'https://api.stripe.com/v1' must be an absolute http(s) base URL with no path or query.",
                "KeyBrake:Vendors:paypal:SecretName is required.",
                "KeyBrake:Vendors:paypal:Auth: 'Digest' must be Bearer or Basic.",
                "KeyBrake:Vendors:paypal:Port: 0 must be 1-65535 and used by one vendor only.",
            ],
            Validator.Errors(options));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(300, false)]
    [InlineData(0, true)]
    [InlineData(301, true)]
    public void Validate_ConnectTimeout_PositiveAtMostFiveMinutes(int seconds, bool error)
    {
        var options = With(Stripe() with { ConnectTimeout = TimeSpan.FromSeconds(seconds) });

        Assert.Equal(error ? [$"KeyBrake:Vendors:stripe:ConnectTimeout: '{Duration.Format(TimeSpan.FromSeconds(seconds))}' must be a positive duration of at most 5m."] : [],
            Validator.Errors(options));
    }

    [Fact]
    public void Validate_ResponseTimeout_UnsetOrPositive()
    {
        Assert.Empty(Validator.Errors(With(Stripe() with { ResponseTimeout = null })));
        Assert.Empty(Validator.Errors(With(Stripe() with { ResponseTimeout = TimeSpan.FromDays(1) })));
        Assert.Equal(["KeyBrake:Vendors:stripe:ResponseTimeout: '0' must be a positive duration."],
            Validator.Errors(With(Stripe() with { ResponseTimeout = TimeSpan.Zero })));
    }

    [Fact]
    public void Validate_OnePortForTwoVendors_IsAnError()
    {
        var options = OptionsValidation.Defaults();
        options.Vendors["stripe"] = options.Vendors["stripe"] with { Port = 9000 };
        options.Vendors["resend"] = options.Vendors["resend"] with { Port = 9000 };

        var error = Assert.Single(Validator.Errors(options)); // the second of the two, in the dictionary's order
        Assert.EndsWith(":Port: 9000 must be 1-65535 and used by one vendor only.", error, StringComparison.Ordinal);
    }

    private static VendorOptions Stripe() => OptionsValidation.Defaults().Vendors["stripe"];

    private static KeyBrakeOptions With(VendorOptions vendor, string name = "stripe") =>
        new() { Vendors = new(StringComparer.Ordinal) { [name] = vendor } };
}

namespace KeyBrake.Tests;

public sealed class PricingOptionsValidatorTests
{
    private static readonly PricingOptionsValidator Validator = new();

    [Fact]
    public void Validate_Defaults_NoError() => Assert.Empty(Validator.Errors(OptionsValidation.Defaults()));

    [Fact]
    public void Validate_BadRatesListsAndPrices_ListsEach()
    {
        var options = OptionsValidation.Bind(OptionsValidation.Configuration(new Dictionary<string, string?>
        {
            ["KeyBrake:Pricing:Fx:EUR"] = "1100000",
            ["KeyBrake:Pricing:Fx:gbp"] = "0",
            ["KeyBrake:Pricing:ZeroDecimalCurrencies"] = "jpy,JPY",
            ["KeyBrake:Pricing:Twilio:SegmentMicros"] = "-1",
            ["KeyBrake:Pricing:Resend:EmailMicros"] = "1000000001",
        }));

        var errors = Validator.Errors(options);

        foreach (var expected in new[]
        {
            "KeyBrake:Pricing:Fx:EUR: a lower-case ISO 4217 code",
            "KeyBrake:Pricing:Fx:gbp: a lower-case ISO 4217 code",
            "KeyBrake:Pricing:ZeroDecimalCurrencies: 'jpy,JPY' must be comma-separated lower-case ISO 4217 codes.",
            "KeyBrake:Pricing:Twilio:SegmentMicros: -1 must be 0-1000000000 micro-USD.",
            "KeyBrake:Pricing:Resend:EmailMicros: 1000000001 must be 0-1000000000 micro-USD.",
        })
        {
            Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
        }
        Assert.Equal(5, errors.Count);
    }

    [Fact]
    public void Validate_BadFreeWrite_NamesItsIndex()
    {
        var options = OptionsValidation.Bind(OptionsValidation.Configuration(new Dictionary<string, string?>
        {
            ["KeyBrake:Pricing:stripe:FreeWrites:0"] = "POST /v1/subscriptions",
            ["KeyBrake:Pricing:stripe:FreeWrites:1"] = "POST v1/x",
        }));

        var error = Assert.Single(Validator.Errors(options));

        Assert.StartsWith("KeyBrake:Pricing:stripe:FreeWrites:1: 'POST v1/x': ", error, StringComparison.Ordinal);
    }
}

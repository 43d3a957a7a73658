using KeyBrake.Spend.Pricing;
using KeyBrake.Vendors;

namespace KeyBrake.Tests.Vendors;

/// <summary>The registry of vendor profiles: one per vendor KeyBrake can be configured for, holding its documented defaults.</summary>
public sealed class VendorProfilesTests
{
    [Fact]
    public void Names_AreTheVendorsTheValidatorAccepts_InTheirDocumentedOrder()
    {
        Assert.Equal(["stripe", "twilio", "resend"], VendorProfiles.Names);
        Assert.True(VendorsOptionsValidator.KnownVendors.SetEquals(VendorProfiles.Names));
    }

    [Fact]
    public void EveryVendorConfiguredByDefault_HasItsProfile()
    {
        var options = Options();

        Assert.Equal(3, options.Vendors.Count);
        Assert.All(options.Vendors.Keys, name => Assert.Equal(name, VendorProfiles.Find(name)?.Name));
    }

    [Fact]
    public void ConfigurationDefaults_AreTheDocumentedKeysAndValues()
    {
        Assert.Equal(new Dictionary<string, string?>
        {
            ["KeyBrake:Vendors:stripe:Upstream"] = "https://api.stripe.com",
            ["KeyBrake:Vendors:stripe:SecretName"] = "stripe-api-key",
            ["KeyBrake:Vendors:stripe:Auth"] = "Bearer",
            ["KeyBrake:Vendors:twilio:Upstream"] = "https://api.twilio.com",
            ["KeyBrake:Vendors:twilio:SecretName"] = "twilio-auth-token",
            ["KeyBrake:Vendors:twilio:Auth"] = "Basic",
            ["KeyBrake:Vendors:resend:Upstream"] = "https://api.resend.com",
            ["KeyBrake:Vendors:resend:SecretName"] = "resend-api-key",
            ["KeyBrake:Vendors:resend:Auth"] = "Bearer",
        }, VendorProfiles.ConfigurationDefaults.ToDictionary());
        Assert.All(VendorProfiles.ConfigurationDefaults, d => Assert.Equal(d.Value, KeyBrakeHostExtensions.Defaults[d.Key]));
    }

    [Fact]
    public void Defaults_AnOperatorsSettingStillWins()
    {
        var options = Options(new() { ["KeyBrake:Vendors:stripe:Upstream"] = "http://127.0.0.1:9999", ["KeyBrake:Vendors:twilio:Auth"] = "Bearer" });

        Assert.Equal(("http://127.0.0.1:9999", "stripe-api-key", "Bearer"), (options.Vendors["stripe"].Upstream, options.Vendors["stripe"].SecretName, options.Vendors["twilio"].Auth));
    }

    [Theory]
    [InlineData("stripe", "Request-Id", false, false)]
    [InlineData("twilio", "Twilio-Request-Id", true, true)]
    [InlineData("resend", null, false, false)]
    public void Find_EachVendor_StatesItsResponseFacts(string name, string? requestIdHeader, bool scrubsSuccessBodies, bool statesPrice)
    {
        var profile = VendorProfiles.Find(name)!;

        Assert.Equal((requestIdHeader, scrubsSuccessBodies, statesPrice), (profile.RequestIdHeader, profile.ScrubsSuccessBodies, profile.StatesPrice));
    }

    [Theory]
    [InlineData("Stripe")]
    [InlineData("stripe ")]
    [InlineData("v1")]
    public void Find_AnyOtherSpelling_IsUnknown(string name) => Assert.Null(VendorProfiles.Find(name));

    [Fact]
    public void CreatePricer_PricesEveryVendorFromItsOwnTables()
    {
        var options = Options();
        var pricer = VendorProfiles.CreatePricer(options.Pricing);

        Assert.All(VendorProfiles.All, profile =>
        {
            Assert.Equal(profile.Name, profile.Pricing(options.Pricing).Vendor);
            // Deny by default, in the vendor's own words: a write in none of its tables names the vendor's FreeWrites.
            var refusal = pricer.Price(profile.Name, "POST", "/no/such/write", null, default, null).Refusal;
            Assert.Contains($"KeyBrake:Pricing:{profile.Name}:FreeWrites", refusal, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void CreatePricer_AVendorWithNoProfile_OnlyReadsAreFree()
    {
        var pricer = VendorProfiles.CreatePricer(Options().Pricing);

        Assert.Equal(0, pricer.Price("v1", "GET", "/x", null, default, null).Estimate.Value);
        Assert.Equal("KeyBrake has no pricing for vendor 'v1', so it forwards only reads to it", pricer.Price("v1", "POST", "/x", null, default, null).Refusal);
    }

    private static KeyBrakeOptions Options(Dictionary<string, string?>? settings = null) => new ConfigurationBuilder()
        .AddInMemoryCollection(KeyBrakeHostExtensions.Defaults)
        .AddInMemoryCollection(settings ?? [])
        .Build()
        .GetSection("KeyBrake").Get<KeyBrakeOptions>()!;
}

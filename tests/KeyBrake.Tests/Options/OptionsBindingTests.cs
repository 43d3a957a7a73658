namespace KeyBrake.Tests;

/// <summary>SPEC §2: duration options bound from <c>90s</c>, <c>30m</c>, <c>4h</c>, <c>7d</c>, <c>0</c> or <c>hh:mm:ss</c>; a text that is not one is reported, never thrown.</summary>
public sealed class OptionsBindingTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("4h", 14400)]
    [InlineData("7d", 604800)]
    [InlineData("0", 0)]
    [InlineData("0s", 0)]
    [InlineData("01:30:00", 5400)]
    [InlineData("2.00:00:00", 172800)]
    public void Bind_DurationText_IsTheTimeSpan(string text, int seconds)
    {
        var options = Bind(("KeyBrake:Secrets:CacheTtl", text), ("KeyBrake:Vendors:stripe:ResponseTimeout", text));

        Assert.Equal(TimeSpan.FromSeconds(seconds), options.Secrets.CacheTtl);
        Assert.Equal(TimeSpan.FromSeconds(seconds), options.Vendors["stripe"].ResponseTimeout);
        Assert.Empty(Unreadable(("KeyBrake:Secrets:CacheTtl", text)));
    }

    [Fact]
    public void Bind_FractionOfASecond_IsKept()
    {
        var options = Bind(("KeyBrake:Audit:CommitTimeout", "00:00:00.300"));

        Assert.Equal(TimeSpan.FromMilliseconds(300), options.Audit.CommitTimeout);
    }

    [Fact]
    public void Bind_NothingConfigured_TheRecordsDefaults()
    {
        var options = Bind();

        var defaults = new KeyBrakeOptions();
        Assert.Equal((defaults.Keys, defaults.Proxy, defaults.Audit, defaults.Storage, defaults.Admin), (options.Keys, options.Proxy, options.Audit, options.Storage, options.Admin));
        Assert.Equal(defaults.Secrets with { Local = options.Secrets.Local }, options.Secrets);
        Assert.Equal(TimeSpan.FromSeconds(10), options.Vendors["stripe"].ConnectTimeout);
        Assert.Null(options.Vendors["stripe"].ResponseTimeout);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("")]
    [InlineData("4H")]
    [InlineData("-4h")]
    [InlineData("4.5h")]
    [InlineData("-00:05:00")]
    [InlineData("3651d")] // past Duration's ten years
    [InlineData("99999999999d")] // past a long
    [InlineData("99999999.00:00:00")] // past TimeSpan
    public void Bind_NotADuration_KeepsTheDefault_AndIsReportedWithKeyAndText(string text)
    {
        var options = Bind(("KeyBrake:Keys:MaxTtl", text), ("KeyBrake:Vendors:twilio:ConnectTimeout", text), ("KeyBrake:Secrets:MaxStale", text));

        Assert.Equal(new KeysOptions().MaxTtl, options.Keys.MaxTtl);
        Assert.Equal(new VendorOptions().ConnectTimeout, options.Vendors["twilio"].ConnectTimeout);
        Assert.Equal(new SecretsOptions().MaxStale, options.Secrets.MaxStale);
        Assert.Equal(
            [
                $"KeyBrake:Vendors:twilio:ConnectTimeout: '{text}' must be a positive duration of at most 5m.",
                $"KeyBrake:Secrets:MaxStale: '{text}' is not a duration.",
                $"KeyBrake:Keys:MaxTtl: '{text}' must be a positive duration.",
            ],
            Unreadable(("KeyBrake:Keys:MaxTtl", text), ("KeyBrake:Vendors:twilio:ConnectTimeout", text), ("KeyBrake:Secrets:MaxStale", text)));
    }

    [Fact]
    public void Bind_OtherSettings_BindAsTheConfigurationBinderDoes()
    {
        var options = Bind(("KeyBrake:Proxy:MaxBodyBytes", "2048"), ("KeyBrake:Secrets:Local:stripe-api-key", "sk_test_x"),
            ("KeyBrake:Vendors:stripe:Port", "9000"), ("KeyBrake:Audit:AcknowledgeBrokenChainAt", "42"), ("KeyBrake:Proxy:DrainTimeout", "1m"));

        Assert.Equal(2048, options.Proxy.MaxBodyBytes);
        Assert.Equal("sk_test_x", options.Secrets.Local["stripe-api-key"]);
        Assert.Equal(9000, options.Vendors["stripe"].Port);
        Assert.Equal("https://api.stripe.com", options.Vendors["stripe"].Upstream);
        Assert.Equal(42, options.Audit.AcknowledgeBrokenChainAt);
        Assert.Equal(TimeSpan.FromMinutes(1), options.Proxy.DrainTimeout);
    }

    [Fact]
    public void Bind_TextsThatAreNotTheirType_KeepTheDefaults_AndAreReported()
    {
        (string, string)[] settings =
        [
            ("KeyBrake:Proxy:MaxBodyBytes", "1 MiB"), ("KeyBrake:Audit:QueueCapacity", ""), ("KeyBrake:Secrets:VerifyChallengeResource", "yes"),
            ("KeyBrake:Pricing:Fx:eur", "1.1"), ("KeyBrake:Vendors:stripe:Port", "http"), ("KeyBrake:Audit:MaxBatch", "99999999999"),
        ];

        var options = Bind(settings);

        Assert.Equal((new ProxyOptions().MaxBodyBytes, new AuditOptions().QueueCapacity, true, (int?)null, new AuditOptions().MaxBatch),
            (options.Proxy.MaxBodyBytes, options.Audit.QueueCapacity, options.Secrets.VerifyChallengeResource, options.Vendors["stripe"].Port, options.Audit.MaxBatch));
        Assert.False(options.Pricing.Fx.ContainsKey("eur")); // a dictionary entry has no default: it is left out
        Assert.Equal(
            [
                "KeyBrake:Vendors:stripe:Port: 'http' must be a whole number.",
                "KeyBrake:Secrets:VerifyChallengeResource: 'yes' must be true or false.",
                "KeyBrake:Proxy:MaxBodyBytes: '1 MiB' must be a whole number.",
                "KeyBrake:Audit:QueueCapacity: '' must be a whole number.",
                "KeyBrake:Audit:MaxBatch: '99999999999' must be a whole number.",
                "KeyBrake:Pricing:Fx:eur: '1.1' must be a whole number.",
            ],
            Unreadable(settings));
    }

    [Fact]
    public void Bind_EmptyNullableNumber_StaysUnset()
    {
        var options = Bind(("KeyBrake:Vendors:stripe:Port", ""), ("KeyBrake:Audit:AcknowledgeBrokenChainAt", ""));

        Assert.Null(options.Vendors["stripe"].Port);
        Assert.Null(options.Audit.AcknowledgeBrokenChainAt);
        Assert.Empty(Unreadable(("KeyBrake:Vendors:stripe:Port", ""), ("KeyBrake:Audit:AcknowledgeBrokenChainAt", "")));
    }

    [Fact]
    public void Get_OneSection_BindsItsDurations()
    {
        var configuration = OptionsValidation.Configuration(Settings(("KeyBrake:Proxy:DrainTimeout", "45s")));

        Assert.Equal(TimeSpan.FromSeconds(45), OptionsBinding.Get<ProxyOptions>(configuration.GetSection("KeyBrake:Proxy")).DrainTimeout);
    }

    private static KeyBrakeOptions Bind(params (string Key, string Value)[] settings) =>
        OptionsValidation.Bind(OptionsValidation.Configuration(Settings(settings)));

    private static List<string> Unreadable(params (string Key, string Value)[] settings) =>
        [.. OptionsBinding.Unreadable(OptionsValidation.Configuration(Settings(settings)).GetSection("KeyBrake"), typeof(KeyBrakeOptions))];

    private static Dictionary<string, string?> Settings(params (string Key, string Value)[] settings) =>
        settings.ToDictionary(s => s.Key, s => (string?)s.Value);
}

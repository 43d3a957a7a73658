using Microsoft.Extensions.DependencyInjection;

namespace KeyBrake.Tests;

public sealed class KeyBrakeOptionsValidatorTests
{
    [Fact]
    public void Validate_Defaults_Succeed()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(KeyBrakeHostExtensions.Defaults).Build();
        var options = OptionsValidation.Bind(configuration);

        Assert.True(OptionsValidation.Validator(configuration).Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_ListsEveryError()
    {
        var options = new KeyBrakeOptions
        {
            Vendors = new(StringComparer.Ordinal)
            {
                ["Stripe"] = new() { Upstream = "ftp://x", SecretName = "", Auth = "Digest", Port = 70000 },
                ["v1"] = new() { Upstream = "https://api.example.com/base", SecretName = "s", Auth = "Bearer" },
            },
            Secrets = new()
            {
                Provider = "AzureKeyVault", KeyVaultUri = "http://vault",
                ReadTimeout = TimeSpan.FromMilliseconds(100), ReadRetries = 11, BreakDuration = TimeSpan.FromHours(1),
            },
            Keys = new() { MaxTtl = TimeSpan.Zero, DefaultTtl = TimeSpan.FromHours(1) },
            Proxy = new() { MaxBodyBytes = 0 },
            Admin = new() { BootstrapToken = "short" },
            Audit = new()
            {
                CheckpointEvery = 0, CheckpointInterval = TimeSpan.Zero, CommitTimeout = TimeSpan.FromMinutes(5), QueueCapacity = 0, MaxBatch = 0,
                Synchronous = "OFF", SigningKeySecretName = " ", AcknowledgeBrokenChainAt = 0,
            },
        };

        // Texts that are not durations reach the validator through configuration (the binding keeps the defaults).
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["KeyBrake:Secrets:CacheTtl"] = "soon", ["KeyBrake:Secrets:MaxStale"] = "later",
        }).Build();

        var result = OptionsValidation.Validator(configuration).Validate(null, options);

        Assert.True(result.Failed);
        var failures = string.Join("\n", result.Failures!);
        foreach (var expected in new[]
        {
            "Vendors:Stripe: unknown vendor", "Vendors:Stripe:Upstream", "Vendors:Stripe:SecretName", "Vendors:Stripe:Auth",
            "Vendors:Stripe:Port", "Vendors:v1: unknown vendor", "Vendors:v1:Upstream", "KeyVaultUri", "CacheTtl", "Secrets:MaxStale",
            "Secrets:ReadTimeout", "Secrets:ReadRetries", "Secrets:BreakDuration", "MaxTtl",
            "MaxBodyBytes", "BootstrapToken", "Audit:CheckpointEvery", "Audit:CheckpointInterval", "Audit:CommitTimeout",
            "Audit:QueueCapacity", "Audit:MaxBatch", "Audit:Synchronous", "Audit:SigningKeySecretName", "Audit:AcknowledgeBrokenChainAt",
        })
        {
            Assert.Contains(expected, failures, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_UnreadableDurationsInTwoSections_ListedFirstWithEverySectionsErrors()
    {
        var configuration = OptionsValidation.Configuration(new Dictionary<string, string?>
        {
            ["KeyBrake:Proxy:DrainTimeout"] = "half a minute",
            ["KeyBrake:Vendors:stripe:ConnectTimeout"] = "10 s",
            ["KeyBrake:Audit:Synchronous"] = "OFF",
        });

        var result = OptionsValidation.Validator(configuration).Validate(null, OptionsValidation.Bind(configuration));

        Assert.Equal(
            [
                "KeyBrake:Vendors:stripe:ConnectTimeout: '10 s' must be a positive duration of at most 5m.",
                "KeyBrake:Proxy:DrainTimeout: 'half a minute' must be a positive duration of at most 10m.",
                "KeyBrake:Audit:Synchronous: 'OFF' must be NORMAL or FULL.",
            ],
            result.Failures);
    }

    [Fact]
    public void AddKeyBrakeOptions_RegistersEachSectionValidator_InTheOrderTheirErrorsAreListed()
    {
        var configuration = OptionsValidation.Configuration();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddKeyBrakeOptions(configuration).BuildServiceProvider();

        Assert.Equal(
            [
                typeof(VendorsOptionsValidator), typeof(SecretsOptionsValidator), typeof(KeysOptionsValidator), typeof(StorageOptionsValidator),
                typeof(ProxyOptionsValidator), typeof(AuditOptionsValidator), typeof(PricingOptionsValidator), typeof(AdminOptionsValidator),
            ],
            services.GetServices<IOptionsSectionValidator>().Select(v => v.GetType()));
    }

    [Fact]
    public void Validate_PricingFreeWrites_ListsEveryBadPattern()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(KeyBrakeHostExtensions.Defaults).AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["KeyBrake:Pricing:stripe:FreeWrites:0"] = "POST /v1/subscriptions",
            ["KeyBrake:Pricing:stripe:FreeWrites:1"] = "post /v1/subscriptions",
            ["KeyBrake:Pricing:stripe:FreeWrites:2"] = "POST v1/x",
            ["KeyBrake:Pricing:twilio:FreeWrites:0"] = "/2010-04-01/Accounts/*/Queues/../x",
            ["KeyBrake:Pricing:resend:FreeWrites:0"] = "POST /broadcasts/*/send",
            ["KeyBrake:Pricing:resend:FreeWrites:1"] = "POST /broadcasts/b*/send",
        }).Build();
        var options = configuration.GetSection("KeyBrake").Get<KeyBrakeOptions>()!;

        var result = OptionsValidation.Validator().Validate(null, options);

        var failures = string.Join("\n", result.Failures ?? []);
        Assert.Equal(4, result.Failures?.Count(f => f.Contains(":FreeWrites:", StringComparison.Ordinal)));
        foreach (var expected in new[]
        {
            "KeyBrake:Pricing:stripe:FreeWrites:1", "KeyBrake:Pricing:stripe:FreeWrites:2", "KeyBrake:Pricing:twilio:FreeWrites:0",
            "KeyBrake:Pricing:resend:FreeWrites:1",
        })
        {
            Assert.Contains(expected, failures, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("http://0.0.0.0:8081", false, true)]
    [InlineData("http://10.1.2.3:8081", false, true)]
    [InlineData("http://127.0.0.1:8081", false, false)]
    [InlineData("http://[::1]:8081", false, false)]
    [InlineData("http://localhost:8081", false, false)]
    [InlineData("https://0.0.0.0:8443", false, false)]
    [InlineData("http://0.0.0.0:8081", true, false)]
    public void Validate_AdminListener_PlainHttpOffLoopback_IsAnError_UnlessAllowed(string url, bool allowed, bool error)
    {
        var settings = new Dictionary<string, string?>(KeyBrakeHostExtensions.Defaults) { ["Kestrel:Endpoints:Admin:Url"] = url };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = configuration.GetSection("KeyBrake").Get<KeyBrakeOptions>()! with { Admin = new() { AllowPlaintextNonLoopback = allowed } };

        var result = OptionsValidation.Validator(configuration).Validate(null, options);

        Assert.Equal(error, result.Failed);
        if (error)
        {
            Assert.Contains("Kestrel:Endpoints:Admin:Url", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0L, 1_048_576L, true)]
    [InlineData(-1L, 1_048_576L, true)]
    [InlineData(524_288L, 1_048_576L, true)]
    [InlineData(1_048_576L, 1_048_576L, false)]
    [InlineData(67_108_864L, 1_048_576L, false)]
    public void Validate_MaxInFlightBodyBytes_MustBePositiveAndHoldOneBody(long inFlight, long maxBody, bool error)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(KeyBrakeHostExtensions.Defaults).Build();
        var options = configuration.GetSection("KeyBrake").Get<KeyBrakeOptions>()! with
        {
            Proxy = new() { MaxInFlightBodyBytes = inFlight, MaxBodyBytes = maxBody },
        };

        var result = OptionsValidation.Validator().Validate(null, options);

        Assert.Equal(error, result.Failed);
        if (error)
        {
            Assert.Contains("KeyBrake:Proxy:MaxInFlightBodyBytes", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(null, null, 0L, true)]
    [InlineData("data", "data/keybrake.db", 1073741824L, true)]
    [InlineData(null, null, -1L, false)]
    [InlineData(" ", null, 0L, false)]
    [InlineData(null, "", 0L, false)]
    public void Validate_DataDirectoryDatabasePathAndMinFreeBytes(string? dataDirectory, string? database, long minFreeBytes, bool valid)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(KeyBrakeHostExtensions.Defaults).Build();
        var options = configuration.GetSection("KeyBrake").Get<KeyBrakeOptions>()! with
        {
            DataDirectory = dataDirectory,
            Storage = new() { Sqlite = new() { Path = database }, MinFreeBytes = minFreeBytes },
        };

        var result = OptionsValidation.Validator().Validate(null, options);

        Assert.True(valid == result.Succeeded, result.FailureMessage);
    }
}

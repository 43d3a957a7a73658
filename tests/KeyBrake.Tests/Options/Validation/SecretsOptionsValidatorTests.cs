namespace KeyBrake.Tests;

public sealed class SecretsOptionsValidatorTests
{
    private static readonly SecretsOptionsValidator Validator = new();

    [Fact]
    public void Validate_Defaults_NoError() => Assert.Empty(Validator.Errors(new KeyBrakeOptions()));

    [Theory]
    [InlineData("Local", null, false)]
    [InlineData("AzureKeyVault", "https://kb.vault.azure.net/", false)]
    [InlineData("AzureKeyVault", "http://kb.vault.azure.net/", true)]
    [InlineData("AzureKeyVault", null, true)]
    public void Validate_KeyVaultUri_HttpsWhenTheProviderIsKeyVault(string provider, string? uri, bool error)
    {
        var errors = Validator.Errors(new KeyBrakeOptions { Secrets = new() { Provider = provider, KeyVaultUri = uri } });

        Assert.Equal(error, errors.Any(e => e.StartsWith("KeyBrake:Secrets:KeyVaultUri: ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Validate_UnknownProvider_IsAnError() =>
        Assert.Equal(["KeyBrake:Secrets:Provider: 'Vault' must be Local or AzureKeyVault."],
            Validator.Errors(new KeyBrakeOptions { Secrets = new() { Provider = "Vault" } }));

    [Theory]
    [InlineData(500, false)]
    [InlineData(600_000, false)]
    [InlineData(499, true)]
    [InlineData(600_001, true)]
    public void Validate_ReadTimeoutAndBreakDuration_Between500MsAnd10m(int milliseconds, bool error)
    {
        var value = TimeSpan.FromMilliseconds(milliseconds);

        var errors = Validator.Errors(new KeyBrakeOptions { Secrets = new() { ReadTimeout = value, BreakDuration = value } });

        Assert.Equal(error
            ? [
                $"KeyBrake:Secrets:ReadTimeout: '{Duration.Format(value)}' must be a duration between 500 ms and 10m.",
                $"KeyBrake:Secrets:BreakDuration: '{Duration.Format(value)}' must be a duration between 500 ms and 10m.",
            ]
            : [], errors);
    }

    [Fact]
    public void Validate_CacheTtlAndMaxStale_ZeroAllowed() =>
        Assert.Empty(Validator.Errors(new KeyBrakeOptions { Secrets = new() { CacheTtl = TimeSpan.Zero, MaxStale = TimeSpan.Zero } }));

    [Theory]
    [InlineData(0, false)]
    [InlineData(10, false)]
    [InlineData(-1, true)]
    [InlineData(11, true)]
    public void Validate_ReadRetries_ZeroToTen(int retries, bool error) =>
        Assert.Equal(error ? [$"KeyBrake:Secrets:ReadRetries: {retries} must be between 0 and 10."] : [],
            Validator.Errors(new KeyBrakeOptions { Secrets = new() { ReadRetries = retries } }));
}

namespace KeyBrake.Tests;

public sealed class AdminOptionsValidatorTests
{
    [Fact]
    public void Validate_Defaults_NoError() => Assert.Empty(Validator("http://127.0.0.1:8081").Errors(new KeyBrakeOptions()));

    [Fact]
    public void Validate_ShortBootstrapToken_IsAnError() =>
        Assert.Equal(["KeyBrake:Admin:BootstrapToken must be at least 16 characters."],
            Validator(null).Errors(new KeyBrakeOptions { Admin = new() { BootstrapToken = "fifteen-chars.." } }));

    [Fact]
    public void Validate_PlainHttpOnAPodAddress_IsAnError_UnlessAllowed()
    {
        var validator = Validator("http://10.1.2.3:8081");

        var error = Assert.Single(validator.Errors(new KeyBrakeOptions()));
        Assert.StartsWith("Kestrel:Endpoints:Admin:Url: 'http://10.1.2.3:8081' serves the admin API over plain http", error, StringComparison.Ordinal);
        Assert.Empty(validator.Errors(new KeyBrakeOptions { Admin = new() { AllowPlaintextNonLoopback = true } }));
    }

    [Fact]
    public void Validate_MalformedListenerUrl_LeftToTheListenerMap() =>
        Assert.Empty(Validator("not a url").Errors(new KeyBrakeOptions()));

    private static AdminOptionsValidator Validator(string? adminUrl) =>
        new(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Kestrel:Endpoints:Admin:Url"] = adminUrl }).Build());
}

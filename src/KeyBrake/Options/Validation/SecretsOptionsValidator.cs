namespace KeyBrake;

/// <summary><c>KeyBrake:Secrets</c> (SPEC §2, §6): the provider, the vault URI, Key Vault's time-outs and retries.</summary>
internal sealed class SecretsOptionsValidator : IOptionsSectionValidator
{
    public void Validate(KeyBrakeOptions options, ICollection<string> errors)
    {
        var secrets = options.Secrets;
        if (secrets.Provider is not ("Local" or "AzureKeyVault"))
        {
            errors.Add($"KeyBrake:Secrets:Provider: '{secrets.Provider}' must be Local or AzureKeyVault.");
        }
        if (secrets.Provider == "AzureKeyVault"
            && (!Uri.TryCreate(secrets.KeyVaultUri, UriKind.Absolute, out var vault) || vault.Scheme != "https"))
        {
            errors.Add($"KeyBrake:Secrets:KeyVaultUri: '{secrets.KeyVaultUri}' must be an https vault URI when the provider is AzureKeyVault.");
        }
        DurationRanges.Validate("KeyBrake:Secrets", secrets, errors);
        if (secrets.ReadRetries is < 0 or > 10)
        {
            errors.Add($"KeyBrake:Secrets:ReadRetries: {secrets.ReadRetries} must be between 0 and 10.");
        }
    }
}

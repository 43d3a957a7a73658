namespace KeyBrake.Secrets;

/// <summary>Provider <c>Local</c>: values from configuration, <c>KeyBrake:Secrets:Local:{name}</c>.</summary>
internal sealed class LocalSecretStore(IConfiguration configuration) : ISecretStore
{
    public ValueTask<string> GetAsync(string name, CancellationToken cancellationToken)
    {
        var value = configuration[$"KeyBrake:Secrets:Local:{name}"];
        return string.IsNullOrEmpty(value)
            ? throw new SecretUnavailableException($"Secret '{name}' is not configured (KeyBrake:Secrets:Local:{name}).")
            : ValueTask.FromResult(value);
    }
}

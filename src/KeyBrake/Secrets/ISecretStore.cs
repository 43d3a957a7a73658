namespace KeyBrake.Secrets;

/// <summary>Where vendor secrets live (SPEC §6). Implementations throw <see cref="SecretUnavailableException"/>.</summary>
internal interface ISecretStore
{
    ValueTask<string> GetAsync(string name, CancellationToken cancellationToken);
}

/// <summary>The secret could not be read. Its message never contains a secret value.</summary>
internal sealed class SecretUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

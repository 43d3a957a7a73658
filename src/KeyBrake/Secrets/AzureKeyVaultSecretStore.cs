using Azure;
using Azure.Security.KeyVault.Secrets;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace KeyBrake.Secrets;

/// <summary>
/// Provider <c>AzureKeyVault</c>: the latest version of a secret, read with <see cref="SecretClient"/> through
/// <see cref="KeyVaultResilience"/> (time-out, retries honouring Retry-After, circuit breaker).
/// </summary>
internal sealed class AzureKeyVaultSecretStore(SecretClient client, ResiliencePipeline pipeline) : ISecretStore
{
    /// <summary>One attempt, no retry, no breaker: for tests of the client alone.</summary>
    public AzureKeyVaultSecretStore(SecretClient client)
        : this(client, ResiliencePipeline.Empty)
    {
    }

    public async ValueTask<string> GetAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var response = await pipeline.ExecuteAsync(
                static async (state, token) => await state.client.GetSecretAsync(state.name, cancellationToken: token),
                (client, name),
                cancellationToken);
            return string.IsNullOrEmpty(response.Value.Value)
                ? throw new SecretUnavailableException($"Secret '{name}' in {client.VaultUri} is empty.")
                : response.Value.Value;
        }
        catch (Exception e) when (e is RequestFailedException or TimeoutRejectedException or BrokenCircuitException)
        {
            throw new SecretUnavailableException($"Key Vault {client.VaultUri} for secret '{name}': {KeyVaultResilience.Describe(e)}.", e);
        }
        catch (Exception e) when (e is not SecretUnavailableException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // Credential failures, network errors, a challenge that does not match the vault: fail closed, say which.
            throw new SecretUnavailableException($"Key Vault {client.VaultUri} could not be read for secret '{name}': {e.GetType().Name}: {e.Message}", e);
        }
    }
}

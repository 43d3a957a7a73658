using Azure;
using Azure.Security.KeyVault.Secrets;

namespace KeyBrake.Secrets;

/// <summary>Provider <c>AzureKeyVault</c>: the latest version of a secret, read with <see cref="SecretClient"/>.</summary>
internal sealed class AzureKeyVaultSecretStore(SecretClient client) : ISecretStore
{
    public async ValueTask<string> GetAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var response = await client.GetSecretAsync(name, cancellationToken: cancellationToken);
            return string.IsNullOrEmpty(response.Value.Value)
                ? throw new SecretUnavailableException($"Secret '{name}' in {client.VaultUri} is empty.")
                : response.Value.Value;
        }
        catch (RequestFailedException e)
        {
            throw new SecretUnavailableException($"Key Vault {client.VaultUri} answered {e.Status} ({e.ErrorCode}) for secret '{name}'.", e);
        }
        catch (Exception e) when (e is Azure.Identity.AuthenticationFailedException or Azure.Identity.CredentialUnavailableException or HttpRequestException)
        {
            throw new SecretUnavailableException($"Key Vault {client.VaultUri} could not be reached for secret '{name}': {e.GetType().Name}.", e);
        }
    }
}

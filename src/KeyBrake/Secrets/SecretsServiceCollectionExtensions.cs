using Azure.Core;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace KeyBrake.Secrets;

internal static class SecretsServiceCollectionExtensions
{
    public static IServiceCollection AddKeyBrakeSecrets(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration["KeyBrake:Secrets:Provider"] == "AzureKeyVault")
        {
            // Managed / workload identity in production; replaceable (tests bring their own client and credential).
            services.TryAddSingleton<TokenCredential>(_ => new DefaultAzureCredential());
            services.TryAddSingleton(sp => new SecretClient(
                new Uri(sp.GetRequiredService<IOptions<KeyBrakeOptions>>().Value.Secrets.KeyVaultUri!),
                sp.GetRequiredService<TokenCredential>()));
            services.TryAddKeyedSingleton<ISecretStore, AzureKeyVaultSecretStore>("provider");
        }
        else
        {
            services.TryAddKeyedSingleton<ISecretStore, LocalSecretStore>("provider");
        }
        services.TryAddSingleton<ISecretStore>(sp => new CachingSecretStore(
            sp.GetRequiredKeyedService<ISecretStore>("provider"),
            sp.GetRequiredService<TimeProvider>(),
            Duration.ParseConfig(sp.GetRequiredService<IOptions<KeyBrakeOptions>>().Value.Secrets.CacheTtl)));
        return services;
    }
}

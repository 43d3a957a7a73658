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
            services.TryAddSingleton(sp =>
            {
                var secrets = sp.GetRequiredService<IOptions<KeyBrakeOptions>>().Value.Secrets;
                var options = new SecretClientOptions { DisableChallengeResourceVerification = !secrets.VerifyChallengeResource };
                options.Retry.MaxRetries = 0; // KeyVaultResilience retries, honouring Retry-After, behind its breaker
                options.Retry.NetworkTimeout = secrets.ReadTimeout;
                return new SecretClient(new Uri(secrets.KeyVaultUri!), sp.GetRequiredService<TokenCredential>(), options);
            });
            services.TryAddKeyedSingleton<ISecretStore>("provider", (sp, _) => new AzureKeyVaultSecretStore(
                sp.GetRequiredService<SecretClient>(),
                KeyVaultResilience.Build(
                    sp.GetRequiredService<IOptions<KeyBrakeOptions>>().Value.Secrets,
                    sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<ILoggerFactory>().CreateLogger("KeyBrake.Secrets.KeyVault"))));
        }
        else
        {
            services.TryAddKeyedSingleton<ISecretStore, LocalSecretStore>("provider");
        }
        services.TryAddSingleton<ISecretStore>(sp =>
        {
            var secrets = sp.GetRequiredService<IOptions<KeyBrakeOptions>>().Value.Secrets;
            return new CachingSecretStore(
                sp.GetRequiredKeyedService<ISecretStore>("provider"),
                sp.GetRequiredService<TimeProvider>(),
                secrets.CacheTtl,
                secrets.MaxStale,
                sp.GetRequiredService<ILogger<CachingSecretStore>>());
        });
        return services;
    }
}

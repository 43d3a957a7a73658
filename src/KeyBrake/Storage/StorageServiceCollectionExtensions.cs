using KeyBrake.Secrets;
using KeyBrake.Storage.Postgres;
using KeyBrake.Storage.Sqlite;
using Microsoft.Extensions.Options;

namespace KeyBrake.Storage;

internal static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// The store's engine, chosen by <c>KeyBrake:Storage:Provider</c> (SPEC §9). Everything else in the host sees its
    /// ports only (<see cref="IStoreEngine"/>, the key, principal and audit stores). An unknown provider registers
    /// nothing: the options validator reports it, with every other error, before anything asks for the store.
    /// </summary>
    public static IServiceCollection AddKeyBrakeStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<DataDirectory>();
        services.AddSingleton<StoreFreeSpace>();
        var provider = configuration[$"{KeyBrakeOptions.Section}:Storage:Provider"] ?? StorageOptions.SqliteProvider;
        if (provider == StorageOptions.SqliteProvider)
        {
            services.AddKeyBrakeSqliteStorage(sp => new SqliteStoreOptions
            {
                Path = sp.GetRequiredService<DataDirectory>().DatabasePath,
                Synchronous = sp.GetRequiredService<IOptions<KeyBrakeOptions>>().Value.Audit.Synchronous,
            });
        }
        else if (provider == StorageOptions.PostgresProvider)
        {
            services.AddKeyBrakePostgresStorage(sp =>
            {
                var postgres = sp.GetRequiredService<IOptions<KeyBrakeOptions>>().Value.Storage.Postgres;
                return new PostgresStoreOptions
                {
                    ConnectionString = PostgresConnection.Resolve(postgres, sp.GetRequiredService<ISecretStore>()),
                    KeyCacheMaxAge = postgres.KeyCacheMaxAge,
                };
            });
        }
        return services;
    }
}

using KeyBrake.Admin;
using KeyBrake.Keys;

namespace KeyBrake.Storage;

internal static class StorageServiceCollectionExtensions
{
    /// <summary>The SQLite store; a PostgreSQL store for several replicas will register the same interfaces.</summary>
    public static IServiceCollection AddKeyBrakeStorage(this IServiceCollection services)
    {
        services.AddSingleton<DataDirectory>();
        services.AddSingleton<StoreFreeSpace>();
        services.AddSingleton<SqliteDatabase>();
        services.AddSingleton<IKeyStore, SqliteKeyStore>();
        services.AddSingleton<IPrincipalStore, SqlitePrincipalStore>();
        return services;
    }
}

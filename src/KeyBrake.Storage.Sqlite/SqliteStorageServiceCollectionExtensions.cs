using KeyBrake.Admin;
using KeyBrake.Audit;
using KeyBrake.Keys;
using Microsoft.Extensions.DependencyInjection;

namespace KeyBrake.Storage.Sqlite;

public static class SqliteStorageServiceCollectionExtensions
{
    /// <summary>
    /// Every port of the store on one SQLite file: <see cref="IStoreEngine"/>, <see cref="IKeyStore"/>,
    /// <see cref="IPrincipalStore"/>, <see cref="IAuditChainStore"/>, <see cref="IAuditReader"/>. One process owns the
    /// file, so key changes and commits are signalled in process.
    /// </summary>
    public static IServiceCollection AddKeyBrakeSqliteStorage(this IServiceCollection services, Func<IServiceProvider, SqliteStoreOptions> options)
    {
        services.AddSingleton(options);
        services.AddSingleton<SqliteDatabase>();
        services.AddSingleton<IStoreEngine>(sp => sp.GetRequiredService<SqliteDatabase>());
        services.AddSingleton<IKeyStore, SqliteKeyStore>();
        services.AddSingleton<IPrincipalStore, SqlitePrincipalStore>();
        services.AddSingleton<IAuditReader, SqliteAuditReader>();
        services.AddSingleton<IAuditChainStore, SqliteAuditChainStore>();
        services.AddSingleton<InProcessCommitSignal>();
        services.AddSingleton<IAuditCommitSignal>(sp => sp.GetRequiredService<InProcessCommitSignal>());
        services.AddSingleton<IKeyChangeFeed, InProcessKeyChangeFeed>();
        return services;
    }
}

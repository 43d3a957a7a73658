using KeyBrake.Admin;
using KeyBrake.Audit;
using KeyBrake.Keys;
using KeyBrake.Spend;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KeyBrake.Storage.Sqlite;

public static class SqliteStorageServiceCollectionExtensions
{
    /// <summary>
    /// Every port of the store on one SQLite file: <see cref="IStoreEngine"/>, <see cref="IKeyStore"/>,
    /// <see cref="IPrincipalStore"/>, <see cref="IAuditChainStore"/>, <see cref="IAuditReader"/>, <see cref="ISpendLedger"/>.
    /// One process owns the file, so key changes and commits are signalled in process, and today's spend is kept in
    /// memory (rebuilt per key from the chain after a start).
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
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ISpendHistory, AuditSpendHistory>();
        services.AddSingleton<ISpendLedger, SpendLedger>();
        services.AddSingleton<IStoreCopySource, SqliteCopySource>(); // KeyBrake storage copy --from-sqlite (SPEC §9)
        return services;
    }
}

using KeyBrake.Admin;
using KeyBrake.Audit;
using KeyBrake.Keys;
using KeyBrake.Spend;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KeyBrake.Storage.Postgres;

public static class PostgresStorageServiceCollectionExtensions
{
    /// <summary>
    /// Every port of the store on one PostgreSQL database shared by any number of replicas (SPEC §9):
    /// <see cref="IStoreEngine"/>, <see cref="IKeyStore"/>, <see cref="IPrincipalStore"/>, <see cref="IAuditChainStore"/>,
    /// <see cref="IAuditReader"/>, <see cref="IAuditCommitSignal"/>, <see cref="IKeyChangeFeed"/> (LISTEN/NOTIFY), <see cref="ISpendLedger"/> (reservations decided in the chain's batches, with their calls' entries),
    /// <see cref="IKeyRingStore"/> (the dashboard's shared key ring).
    /// </summary>
    public static IServiceCollection AddKeyBrakePostgresStorage(this IServiceCollection services, Func<IServiceProvider, PostgresStoreOptions> options)
    {
        services.AddSingleton(options);
        services.AddSingleton<PostgresDatabase>();
        services.AddSingleton<IStoreEngine>(sp => sp.GetRequiredService<PostgresDatabase>());
        services.TryAddSingleton(TimeProvider.System);
        // The audit chain: one chain for every replica (batches serialised by an advisory lock), its reader, and the
        // commit signal, which this replica's writer feeds in process and a LISTEN connection feeds with the others' commits.
        services.AddSingleton<IAuditChainStore, PostgresAuditChainStore>();
        services.AddSingleton<IAuditReader, PostgresAuditReader>();
        services.AddSingleton<InProcessCommitSignal>();
        services.AddSingleton<PostgresCommitSignal>();
        services.AddSingleton<IAuditCommitSignal>(sp => sp.GetRequiredService<PostgresCommitSignal>());
        services.AddSingleton<IStoreCopyTarget, PostgresCopyTarget>(); // KeyBrake storage copy --from-sqlite (SPEC §9)
        // Keys, principals, the change feed, spend and the key ring:
        services.AddSingleton<IKeyStore, PostgresKeyStore>();
        services.AddSingleton<IPrincipalStore, PostgresPrincipalStore>();
        services.AddSingleton<PostgresKeyChangeFeed>();
        services.AddSingleton<IKeyChangeFeed>(sp => sp.GetRequiredService<PostgresKeyChangeFeed>());
        services.AddSingleton<ISpendHistory, AuditSpendHistory>();
        services.AddSingleton<PostgresSpendDays>();
        services.AddSingleton<ISpendLedger, PostgresSpendLedger>();
        services.AddSingleton<IKeyRingStore, PostgresKeyRingStore>();
        return services;
    }
}

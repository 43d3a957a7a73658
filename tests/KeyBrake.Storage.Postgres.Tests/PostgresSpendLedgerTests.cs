using KeyBrake.Storage.Conformance.Spend;

namespace KeyBrake.Storage.Postgres.Tests;

/// <summary>The shared ledger on one replica (<see cref="PostgresSpendLedgerReplicaTests"/> races it across three).</summary>
public sealed class PostgresSpendLedgerTests : SpendLedgerConformance
{
    private readonly PostgresTestStore _postgres = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _postgres.OpenAsync(Clock, services: SpendHistoryOfTheChain.UntilTheAuditReaderIsRegistered);

    protected override Task DeleteStoreAsync() => _postgres.DeleteAsync();
}

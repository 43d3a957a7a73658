using KeyBrake.Storage.Conformance.Spend;

namespace KeyBrake.Storage.Sqlite.Tests;

/// <summary>On SQLite the ledger is in memory, rebuilt per key from the chain after a start.</summary>
public sealed class SqliteSpendLedgerTests : SpendLedgerConformance
{
    private readonly SqliteTestStore _sqlite = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _sqlite.OpenAsync(Clock);

    protected override Task DeleteStoreAsync() => _sqlite.DeleteAsync();
}

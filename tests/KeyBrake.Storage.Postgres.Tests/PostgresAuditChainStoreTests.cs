using KeyBrake.Storage.Conformance.Audit;

namespace KeyBrake.Storage.Postgres.Tests;

/// <summary>The chain store's contract on a database of its own; "the write lock" is the chain's advisory lock (another replica's batch).</summary>
public sealed class PostgresAuditChainStoreTests : AuditChainStoreConformance
{
    private readonly PostgresTestStore _postgres = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _postgres.OpenAsync(Clock);

    protected override Task<IServiceProvider> ReopenStoreAsync() => _postgres.OpenAsync(Clock);

    protected override IDisposable HoldWriteLock() => _postgres.HoldWriteLock();

    protected override Task DeleteStoreAsync() => _postgres.DeleteAsync();
}

using KeyBrake.Storage.Conformance.Audit;

namespace KeyBrake.Storage.Sqlite.Tests;

public sealed class SqliteAuditChainStoreTests : AuditChainStoreConformance
{
    private readonly SqliteTestStore _sqlite = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _sqlite.OpenAsync(Clock);

    protected override Task<IServiceProvider> ReopenStoreAsync() => _sqlite.OpenAsync(Clock);

    protected override IDisposable HoldWriteLock() => _sqlite.HoldWriteLock();

    protected override Task DeleteStoreAsync() => _sqlite.DeleteAsync();
}

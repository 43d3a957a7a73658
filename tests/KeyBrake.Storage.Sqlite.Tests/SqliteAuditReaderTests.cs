using KeyBrake.Storage.Conformance.Audit;

namespace KeyBrake.Storage.Sqlite.Tests;

public sealed class SqliteAuditReaderTests : AuditReaderConformance
{
    private readonly SqliteTestStore _sqlite = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _sqlite.OpenAsync(Clock);

    protected override bool TryTamper(long seq) => _sqlite.Tamper(seq);

    protected override Task DeleteStoreAsync() => _sqlite.DeleteAsync();
}

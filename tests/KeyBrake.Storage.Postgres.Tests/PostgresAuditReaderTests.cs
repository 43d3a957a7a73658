using KeyBrake.Storage.Conformance.Audit;

namespace KeyBrake.Storage.Postgres.Tests;

public sealed class PostgresAuditReaderTests : AuditReaderConformance
{
    private readonly PostgresTestStore _postgres = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _postgres.OpenAsync(Clock);

    protected override bool TryTamper(long seq) => _postgres.Tamper(seq);

    protected override Task DeleteStoreAsync() => _postgres.DeleteAsync();
}

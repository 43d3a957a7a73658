using KeyBrake.Storage.Conformance.Keys;

namespace KeyBrake.Storage.Postgres.Tests;

public sealed class PostgresKeyStoreTests : KeyStoreConformance
{
    private readonly PostgresTestStore _postgres = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _postgres.OpenAsync(Clock);

    protected override Task DeleteStoreAsync() => _postgres.DeleteAsync();
}

using KeyBrake.Storage.Conformance.Admin;

namespace KeyBrake.Storage.Postgres.Tests;

public sealed class PostgresPrincipalStoreTests : PrincipalStoreConformance
{
    private readonly PostgresTestStore _postgres = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _postgres.OpenAsync(Clock);

    protected override Task DeleteStoreAsync() => _postgres.DeleteAsync();
}

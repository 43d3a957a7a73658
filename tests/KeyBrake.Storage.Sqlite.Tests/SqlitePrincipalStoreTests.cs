using KeyBrake.Storage.Conformance.Admin;

namespace KeyBrake.Storage.Sqlite.Tests;

public sealed class SqlitePrincipalStoreTests : PrincipalStoreConformance
{
    private readonly SqliteTestStore _sqlite = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _sqlite.OpenAsync(Clock);

    protected override Task DeleteStoreAsync() => _sqlite.DeleteAsync();
}

using KeyBrake.Storage.Conformance.Keys;

namespace KeyBrake.Storage.Sqlite.Tests;

public sealed class SqliteKeyStoreTests : KeyStoreConformance
{
    private readonly SqliteTestStore _sqlite = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _sqlite.OpenAsync(Clock);

    protected override Task DeleteStoreAsync() => _sqlite.DeleteAsync();
}

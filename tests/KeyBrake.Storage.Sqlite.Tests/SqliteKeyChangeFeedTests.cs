using KeyBrake.Storage.Conformance.Keys;

namespace KeyBrake.Storage.Sqlite.Tests;

/// <summary>One process owns the file, so the SQLite engine's feed is the in-process one.</summary>
public sealed class SqliteKeyChangeFeedTests : KeyChangeFeedConformance
{
    private readonly SqliteTestStore _sqlite = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _sqlite.OpenAsync(Clock);

    protected override Task DeleteStoreAsync() => _sqlite.DeleteAsync();
}

using KeyBrake.Storage.Conformance.Audit;

namespace KeyBrake.Storage.Sqlite.Tests;

/// <summary>One process owns the file, so the SQLite engine's signal is the writer's in-process one.</summary>
public sealed class SqliteCommitSignalTests : AuditCommitSignalConformance
{
    private readonly SqliteTestStore _sqlite = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _sqlite.OpenAsync(Clock);

    protected override Task DeleteStoreAsync() => _sqlite.DeleteAsync();
}

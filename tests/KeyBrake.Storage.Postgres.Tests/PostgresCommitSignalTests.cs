using KeyBrake.Storage.Conformance.Audit;

namespace KeyBrake.Storage.Postgres.Tests;

/// <summary>
/// The shared engine's signal: the writer's in-process reports plus the LISTEN connection's (see
/// <see cref="PostgresAuditReplicaTests"/> for commits made by another replica).
/// </summary>
public sealed class PostgresCommitSignalTests : AuditCommitSignalConformance
{
    private readonly PostgresTestStore _postgres = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _postgres.OpenAsync(Clock);

    protected override Task DeleteStoreAsync() => _postgres.DeleteAsync();
}

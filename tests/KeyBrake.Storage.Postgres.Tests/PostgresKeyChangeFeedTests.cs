using KeyBrake.Storage.Conformance.Keys;

namespace KeyBrake.Storage.Postgres.Tests;

/// <summary>One replica's feed: local subscribers hear its changes once (its own notifications are skipped).</summary>
public sealed class PostgresKeyChangeFeedTests : KeyChangeFeedConformance
{
    private readonly PostgresTestStore _postgres = new();

    protected override Task<IServiceProvider> CreateStoreAsync() => _postgres.OpenAsync(Clock);

    protected override Task DeleteStoreAsync() => _postgres.DeleteAsync();
}

namespace KeyBrake.Storage.Postgres;

/// <summary>The PostgreSQL engine's settings, resolved by the host (<c>KeyBrake:Storage:Postgres:*</c>, SPEC §9).</summary>
public sealed record PostgresStoreOptions
{
    /// <summary>An Npgsql connection string, its password already filled in (from the secret store when configured so).</summary>
    public required string ConnectionString { get; init; }

    /// <summary>
    /// How long a cached key may go without news from the database's notifications before every cached key is dropped
    /// (a lost LISTEN connection is also noticed on reconnect): the bound on a missed change.
    /// </summary>
    public TimeSpan KeyCacheMaxAge { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the live stream's commit signal reads the head when no notification arrived (SPEC §7: within 1 s).</summary>
    public TimeSpan HeadPollInterval { get; init; } = TimeSpan.FromMilliseconds(500);
}

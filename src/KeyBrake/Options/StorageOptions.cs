namespace KeyBrake;

/// <summary>The <c>KeyBrake:Storage</c> section (SPEC §2).</summary>
internal sealed record StorageOptions
{
    public const string SqliteProvider = "Sqlite";
    public const string PostgresProvider = "Postgres";

    /// <summary>SPEC §9: <c>Sqlite</c> (one process, nothing to install) or <c>Postgres</c> (any number of replicas).</summary>
    public string Provider { get; init; } = SqliteProvider;

    public SqliteStorageOptions Sqlite { get; init; } = new();

    public PostgresStorageOptions Postgres { get; init; } = new();

    /// <summary>
    /// SPEC §2: below this much free space where the store writes, proxied calls get 503 <c>audit_unavailable</c>
    /// (admin changes and revocations keep working).
    /// </summary>
    public long MinFreeBytes { get; init; } = 1024L * 1024 * 1024;
}

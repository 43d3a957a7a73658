namespace KeyBrake;

/// <summary>The <c>KeyBrake:Storage:Postgres</c> section (SPEC §9).</summary>
internal sealed record PostgresStorageOptions
{
    /// <summary>An Npgsql connection string (<c>Host=…;Database=…;Username=…</c>); its password may instead come from the secret store.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>
    /// The secret (SPEC §6: Key Vault in production, <c>KeyBrake:Secrets:Local:{name}</c> with Local) that holds the
    /// database password; it replaces any password in <see cref="ConnectionString"/>. Read once, at start.
    /// </summary>
    public string? PasswordSecretName { get; init; }

    /// <summary>
    /// The bound on a missed key-change notification: every cached key is dropped at least this often (and whenever
    /// the LISTEN connection comes back after a loss). A revocation does not depend on it (the chain refuses a revoked
    /// key's request on every replica, SPEC §7); a policy change on another replica reaches this one within it at worst.
    /// </summary>
    [DurationRange(Min = "00:00:01", Max = "1h")]
    public TimeSpan KeyCacheMaxAge { get; init; } = TimeSpan.FromSeconds(30);
}

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
}

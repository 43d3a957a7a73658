namespace KeyBrake;

/// <summary>The <c>KeyBrake:Storage</c> section (SPEC §2).</summary>
internal sealed record StorageOptions
{
    public SqliteStorageOptions Sqlite { get; init; } = new();

    /// <summary>
    /// SPEC §2: below this much free space where the store writes, proxied calls get 503 <c>audit_unavailable</c>
    /// (admin changes and revocations keep working).
    /// </summary>
    public long MinFreeBytes { get; init; } = 1024L * 1024 * 1024;
}

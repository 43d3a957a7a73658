namespace KeyBrake.Storage;

/// <summary>
/// The database behind every store port (keys, principals, the audit chain), as the host sees it: its schema at
/// start-up, its health for <c>/readyz</c>, and where it writes for the free-space floor (SPEC §2, §9).
/// </summary>
public interface IStoreEngine
{
    /// <summary><c>Sqlite</c> or <c>Postgres</c> (<c>KeyBrake:Storage:Provider</c>).</summary>
    string Provider { get; }

    /// <summary>
    /// The local directory the engine writes to, whose free space is held to <c>Storage:MinFreeBytes</c>; null when the
    /// database is elsewhere (a server).
    /// </summary>
    string? LocalDirectory { get; }

    /// <summary>
    /// True when several processes share the store (replicas on a database server, SPEC §9): what one process knows
    /// in memory (a cached key, a revocation it made) the others learn only through the store.
    /// </summary>
    bool IsShared { get; }

    /// <summary>Applies the numbered migrations that have not run yet, each once (also when several processes start together).</summary>
    void Migrate();

    /// <summary>True when the database answers and is migrated.</summary>
    bool IsReachable();
}

namespace KeyBrake.Storage.Sqlite;

/// <summary>The SQLite engine's settings, resolved by the host (<c>KeyBrake:Storage:Sqlite:Path</c>, SPEC §2).</summary>
public sealed record SqliteStoreOptions
{
    /// <summary>The database file (absolute); its directory exists, owner-only, before the store opens it.</summary>
    public required string Path { get; init; }

    /// <summary>
    /// <c>synchronous</c> of the audit writer's connection: <c>NORMAL</c> (a commit survives a crash of the process; WAL)
    /// or <c>FULL</c> (also a power loss).
    /// </summary>
    public string Synchronous { get; init; } = "NORMAL";
}

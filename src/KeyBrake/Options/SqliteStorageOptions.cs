namespace KeyBrake;

/// <summary>The <c>KeyBrake:Storage:Sqlite</c> section (SPEC §2).</summary>
internal sealed record SqliteStorageOptions
{
    /// <summary>The database file; unset: <c>{DataDirectory}/keybrake.db</c>.</summary>
    public string? Path { get; init; }
}

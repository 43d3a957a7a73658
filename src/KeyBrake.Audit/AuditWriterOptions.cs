namespace KeyBrake.Audit;

public sealed record AuditWriterOptions
{
    public required string ConnectionString { get; init; }

    /// <summary><c>data/checkpoints.ndjson</c>: checkpoints also kept outside the database.</summary>
    public required string CheckpointFile { get; init; }

    /// <summary>Entries waiting for the writer; when full, callers wait (back-pressure), then get 503.</summary>
    public int QueueCapacity { get; init; } = 16_384;

    /// <summary>Most entries committed in one transaction.</summary>
    public int MaxBatch { get; init; } = 1_024;

    public long CheckpointEvery { get; init; } = 1_000;

    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>SQLite <c>synchronous</c>: NORMAL (survives a process crash; WAL) or FULL (also a power loss).</summary>
    public string Synchronous { get; init; } = "NORMAL";
}

namespace KeyBrake.Audit;

public sealed record AuditWriterOptions
{
    /// <summary><c>data/checkpoints.ndjson</c>: checkpoints also kept outside the database.</summary>
    public required string CheckpointFile { get; init; }

    /// <summary>Entries waiting for the writer; when full, callers wait (back-pressure), then get 503.</summary>
    public int QueueCapacity { get; init; } = 16_384;

    /// <summary>Most entries committed in one transaction.</summary>
    public int MaxBatch { get; init; } = 1_024;

    public long CheckpointEvery { get; init; } = 1_000;

    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Fsync each checkpoint line: on when the store flushes every commit to disk (SQLite <c>synchronous=FULL</c>), so the
    /// file is as durable as the chain, and no more.
    /// </summary>
    public bool FlushCheckpointFile { get; init; }
}

namespace KeyBrake.Audit;

/// <summary>
/// Where the chain is kept, as its writer (<see cref="AuditWriter"/>) sees it: one batch at a time, on the writer's
/// own thread. Everything engine-neutral (the queue, sealing, withdrawal, checkpoints' schedule and signatures) is the
/// writer's; a store only reads and writes rows. Engine errors surface as <see cref="System.Data.Common.DbException"/>
/// or <see cref="IOException"/>, and the writer retries the batch.
/// </summary>
public interface IAuditChainStore : IDisposable
{
    /// <summary>Opens the store for writing and returns the head. Called once, before any other member.</summary>
    AuditHead Open();

    /// <summary>
    /// Begins a batch: one transaction that serialises with every other writer of the same chain. Disposing it without
    /// <see cref="IAuditBatch.Commit"/> rolls it back. A store that keeps spend beside the chain first decides
    /// <paramref name="spend"/> inside it, in order, and sets each claim's <see cref="SpendClaim.Outcome"/>; a store
    /// that does not is never given any (<see cref="KeepsSpend"/>).
    /// </summary>
    IAuditBatch Begin(IReadOnlyList<SpendClaim>? spend = null);

    /// <summary>Whether <see cref="Begin"/> decides spend claims (PostgreSQL); the SQLite ledger is in memory.</summary>
    bool KeepsSpend { get; }

    /// <summary>Stores a signed checkpoint (one already stored for that seq is kept). Between batches.</summary>
    void InsertCheckpoint(Checkpoint checkpoint);

    /// <summary>The engine's upkeep between batches, on the writer's thread (SQLite: finish a WAL copy-back).</summary>
    void BetweenBatches();
}

using KeyBrake.Audit;

namespace KeyBrake.Storage;

/// <summary>
/// One transaction of a copy into a store: nothing is visible until <see cref="CommitAsync"/>, and disposing it without
/// a commit leaves the store as it was. The reads see this transaction's own writes, so a copy is verified before it
/// is committed.
/// </summary>
public interface IStoreCopy : IAsyncDisposable
{
    /// <summary>The rows already in each table a copy writes or a deployment fills (keys, principals, chain, checkpoints, spend).</summary>
    Task<IReadOnlyDictionary<string, long>> CountRowsAsync(CancellationToken cancellationToken);

    /// <summary>Writes a table's rows; its columns must be exactly the target's (a refusal otherwise: nothing would be lost silently).</summary>
    Task WriteAsync(StoredTable table, CancellationToken cancellationToken);

    /// <summary>Writes the chain's entries as they are (seq, hashes and every field unchanged); returns how many.</summary>
    Task<long> WriteChainAsync(IAsyncEnumerable<AuditEntry> entries, CancellationToken cancellationToken);

    Task WriteCheckpointsAsync(IReadOnlyList<Checkpoint> checkpoints, CancellationToken cancellationToken);

    /// <summary>A table's rows as this transaction now sees them.</summary>
    Task<StoredTable> ReadAsync(string table, CancellationToken cancellationToken);

    Task<IReadOnlyList<Checkpoint>> ReadCheckpointsAsync(CancellationToken cancellationToken);

    /// <summary>Feeds the chain as this transaction now sees it to <paramref name="verifier"/>, in seq order, until it reports a break.</summary>
    Task FeedAsync(AuditVerifier verifier, CancellationToken cancellationToken);

    Task CommitAsync(CancellationToken cancellationToken);
}

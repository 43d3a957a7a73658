namespace KeyBrake.Audit;

/// <summary>
/// Wakes readers that follow the chain (the live stream) when an entry is committed — by this process's writer today,
/// by any replica's once the chain is shared.
/// </summary>
public interface IAuditCommitSignal
{
    /// <summary>The highest seq known to be committed.</summary>
    long HeadSeq { get; }

    /// <summary>Completes when an entry after <paramref name="seq"/> has been committed.</summary>
    Task WaitForCommitAfterAsync(long seq, CancellationToken cancellationToken);
}

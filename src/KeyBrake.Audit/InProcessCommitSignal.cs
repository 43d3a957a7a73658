namespace KeyBrake.Audit;

/// <summary>
/// The commit signal of one process: its <see cref="AuditWriter"/> reports each commit here, and on a shared chain a
/// listener reports the other replicas' commits too. Reports may then arrive out of order, so the head only moves
/// forward: a stale report never makes <see cref="HeadSeq"/> claim less than what is known to be committed.
/// </summary>
public sealed class InProcessCommitSignal : IAuditCommitSignal
{
    private TaskCompletionSource _committed = NewSignal();
    private long _headSeq;

    public long HeadSeq => Volatile.Read(ref _headSeq);

    public Task WaitForCommitAfterAsync(long seq, CancellationToken cancellationToken)
    {
        var signal = Volatile.Read(ref _committed).Task;
        return HeadSeq > seq ? Task.CompletedTask : signal.WaitAsync(cancellationToken);
    }

    /// <summary>Everything up to <paramref name="seq"/> is committed.</summary>
    public void Committed(long seq)
    {
        var known = Volatile.Read(ref _headSeq);
        while (seq > known)
        {
            var seen = Interlocked.CompareExchange(ref _headSeq, seq, known);
            if (seen == known)
            {
                Interlocked.Exchange(ref _committed, NewSignal()).TrySetResult();
                return;
            }
            known = seen;
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

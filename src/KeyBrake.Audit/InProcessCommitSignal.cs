namespace KeyBrake.Audit;

/// <summary>The commit signal of one process: its <see cref="AuditWriter"/> reports each commit here.</summary>
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
        Volatile.Write(ref _headSeq, seq);
        Interlocked.Exchange(ref _committed, NewSignal()).TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

using KeyBrake.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace KeyBrake.Storage.Conformance.Audit;

/// <summary>
/// The contract of <see cref="IAuditCommitSignal"/>, which wakes the live stream (SPEC §7): a waiter for "after seq n"
/// wakes once the writer commits past n, at once when that has already happened, and can give up.
/// </summary>
public abstract class AuditCommitSignalConformance : AuditConformance
{
    /// <summary>How long a waiter is given to show it does not wake without a commit.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    private IAuditCommitSignal Signal => Store.GetRequiredService<IAuditCommitSignal>();

    [Fact]
    public async Task WaitForCommitAfterAsync_WakesOnceTheWriterCommitsAnEntryAfterSeq()
    {
        var writer = StartWriter(Store);
        Assert.True(await writer.AppendDurableAsync(Entry(AuditTypes.PrincipalCreated, null), LongWait, abandonable: false, CancellationToken.None));
        await WaitForHeadSeqAsync(1);

        var waiting = Signal.WaitForCommitAfterAsync(1, CancellationToken.None);
        await Task.Delay(Quiet);
        Assert.False(waiting.IsCompleted); // nothing after seq 1 yet
        await writer.AppendAsync(Entry(AuditTypes.PrincipalCreated, null), LongWait); // not awaited by its caller: the signal still says so

        await waiting.WaitAsync(LongWait);
        Assert.Equal(2, Signal.HeadSeq);
    }

    [Fact]
    public async Task WaitForCommitAfterAsync_SeqAlreadyPassed_CompletesAtOnce()
    {
        var writer = StartWriter(Store);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await writer.AppendDurableAsync(Entry(AuditTypes.PrincipalCreated, null), LongWait, abandonable: false, CancellationToken.None));
        }
        await WaitForHeadSeqAsync(3);

        Assert.True(Signal.WaitForCommitAfterAsync(0, CancellationToken.None).IsCompletedSuccessfully);
        Assert.True(Signal.WaitForCommitAfterAsync(2, CancellationToken.None).IsCompletedSuccessfully);
        Assert.False(Signal.WaitForCommitAfterAsync(3, CancellationToken.None).IsCompleted);
    }

    [Fact]
    public async Task WaitForCommitAfterAsync_Cancelled_StopsWaiting()
    {
        StartWriter(Store);
        using var cancel = new CancellationTokenSource();

        var waiting = Signal.WaitForCommitAfterAsync(0, cancel.Token);
        await Task.Delay(Quiet);
        Assert.False(waiting.IsCompleted);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(LongWait));
    }

    [Fact]
    public async Task WaitForCommitAfterAsync_ManyConcurrentWaiters_AllWakeOnOneCommit()
    {
        var writer = StartWriter(Store);

        var waiters = Enumerable.Range(0, 64).Select(_ => Task.Run(() => Signal.WaitForCommitAfterAsync(0, CancellationToken.None))).ToArray();
        await Task.Delay(Quiet);
        Assert.DoesNotContain(waiters, w => w.IsCompleted);
        Assert.True(await writer.AppendDurableAsync(Entry(AuditTypes.PrincipalCreated, null), LongWait, abandonable: false, CancellationToken.None));

        await Task.WhenAll(waiters).WaitAsync(LongWait);
    }

    /// <summary>A shared engine's signal hears of a commit shortly after it; the in-process one at once.</summary>
    private async Task WaitForHeadSeqAsync(long seq)
    {
        var until = TimeProvider.System.GetTimestamp();
        while (Signal.HeadSeq < seq && TimeProvider.System.GetElapsedTime(until) < LongWait)
        {
            await Task.Delay(10);
        }
        Assert.Equal(seq, Signal.HeadSeq);
    }
}

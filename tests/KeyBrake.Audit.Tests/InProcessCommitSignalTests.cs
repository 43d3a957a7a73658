namespace KeyBrake.Audit.Tests;

/// <summary>On a shared chain two sources report commits (the writer, and the listener for other replicas), out of order.</summary>
public sealed class InProcessCommitSignalTests
{
    [Fact]
    public async Task Committed_AStaleReportAfterANewerOne_NeverMovesTheHeadBack()
    {
        var signal = new InProcessCommitSignal();
        signal.Committed(5);
        var waiting = signal.WaitForCommitAfterAsync(5, CancellationToken.None);

        signal.Committed(3); // the listener's notification of an older commit, after the writer's report of its own

        Assert.Equal(5, signal.HeadSeq);
        Assert.True(signal.WaitForCommitAfterAsync(4, CancellationToken.None).IsCompletedSuccessfully);
        Assert.False(waiting.IsCompleted);
        signal.Committed(6);
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }
}

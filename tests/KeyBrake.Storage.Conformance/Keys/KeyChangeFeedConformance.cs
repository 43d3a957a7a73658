using System.Collections.Concurrent;
using KeyBrake.Keys;
using Microsoft.Extensions.DependencyInjection;

namespace KeyBrake.Storage.Conformance.Keys;

/// <summary>
/// The contract of <see cref="IKeyChangeFeed"/>, which keeps every process's key cache honest after a revocation
/// (SPEC §6): a change reaches every live subscriber, and no disposed one, whatever else happens at the same time.
/// Delivery may be asynchronous (a database notification), so the tests wait for it.
/// </summary>
public abstract class KeyChangeFeedConformance : StoreConformance
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private IKeyChangeFeed Feed => Store.GetRequiredService<IKeyChangeFeed>();

    [Fact]
    public async Task Publish_ReachesEverySubscriber()
    {
        var received = Enumerable.Range(0, 3).Select(_ => new Received()).ToArray();
        var subscriptions = received.Select(r => Feed.Subscribe(r.Add)).ToArray();

        Feed.Publish(new KeyChange("key_1", "hash_1"));

        foreach (var r in received)
        {
            await r.WaitForAsync(1);
            Assert.Equal([new KeyChange("key_1", "hash_1")], r.Changes);
        }
        Array.ForEach(subscriptions, s => s.Dispose());
    }

    [Fact]
    public async Task Publish_AfterTheSubscriptionIsDisposed_DoesNotReachIt()
    {
        var gone = new Received();
        var live = new Received();
        var goneSubscription = Feed.Subscribe(gone.Add);
        using var liveSubscription = Feed.Subscribe(live.Add);
        Feed.Publish(new KeyChange("key_1", "hash_1"));
        await gone.WaitForAsync(1);

        goneSubscription.Dispose();
        Feed.Publish(new KeyChange("key_2", "hash_2"));
        await live.WaitForAsync(2); // the second change has been delivered by now

        Assert.Equal([new KeyChange("key_1", "hash_1")], gone.Changes);
        Assert.Equal(["key_1", "key_2"], live.Changes.Select(c => c.KeyId));
    }

    [Fact]
    public async Task Dispose_OfOneOfTwoSubscriptionsWithTheSameDelegate_KeepsTheOther()
    {
        var received = new Received();
        Action<KeyChange> onChange = received.Add;
        var first = Feed.Subscribe(onChange);
        using var second = Feed.Subscribe(onChange);

        first.Dispose();
        Feed.Publish(new KeyChange("key_1", "hash_1"));

        await received.WaitForAsync(1); // the second subscription still hears it, once
    }

    [Fact]
    public async Task PublishSubscribeAndDispose_Concurrently_NeverThrow_NorLoseAChangeForALiveSubscriber()
    {
        const int publishers = 4, each = 20_000, churners = 4;
        var live = new Received();
        using var liveSubscription = Feed.Subscribe(live.Add);
        using var stop = new CancellationTokenSource();
        using var start = new Barrier(publishers + churners);
        var churned = 0L;

        // Threads of their own, started together: on a busy pool the publishers could finish before any churner runs.
        var churn = Enumerable.Range(0, churners).Select(_ => Run(() =>
        {
            start.SignalAndWait();
            while (!stop.IsCancellationRequested)
            {
                // Several at a time (each its own callback), so that a publisher walks a list a change can meet.
                var subscriptions = Enumerable.Range(0, 8).Select(i => Feed.Subscribe(change => GC.KeepAlive(i))).ToList();
                subscriptions.ForEach(s => s.Dispose());
                Interlocked.Increment(ref churned);
            }
        })).ToArray();
        var publish = Enumerable.Range(0, publishers).Select(p => Run(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < each; i++)
            {
                Feed.Publish(new KeyChange($"key_{p}_{i}", "hash"));
            }
        })).ToArray();
        await Task.WhenAll(publish);
        var churnedWhilePublishing = Interlocked.Read(ref churned);
        await stop.CancelAsync();
        await Task.WhenAll(churn);

        Assert.True(churnedWhilePublishing > 0);
        await live.WaitForAsync(publishers * each);
        Assert.Equal(publishers * each, live.Changes.Select(c => c.KeyId).Distinct().Count());
    }

    private static Task Run(Action body) => Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>What one subscriber received, in order.</summary>
    private sealed class Received
    {
        private readonly ConcurrentQueue<KeyChange> _changes = new();

        public IReadOnlyList<KeyChange> Changes => [.. _changes];

        public void Add(KeyChange change) => _changes.Enqueue(change);

        public async Task WaitForAsync(int count)
        {
            var started = TimeProvider.System.GetTimestamp();
            while (_changes.Count < count && TimeProvider.System.GetElapsedTime(started) < Long)
            {
                await Task.Delay(5);
            }
            Assert.Equal(count, _changes.Count);
        }
    }
}

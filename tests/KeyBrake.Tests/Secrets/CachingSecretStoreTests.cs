using KeyBrake.Secrets;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.Tests.Secrets;

public sealed class CachingSecretStoreTests
{
    [Fact]
    public async Task ZeroTtl_ReadsTheStoreEveryTime()
    {
        var inner = new CountingStore();
        var store = new CachingSecretStore(inner, new FakeTimeProvider(), TimeSpan.Zero);

        await store.GetAsync("s", CancellationToken.None);
        await store.GetAsync("s", CancellationToken.None);

        Assert.Equal(2, inner.Reads);
    }

    [Fact]
    public async Task ConcurrentMisses_ShareOneRead()
    {
        var inner = new CountingStore { Delay = TimeSpan.FromMilliseconds(100) };
        var store = new CachingSecretStore(inner, new FakeTimeProvider(), TimeSpan.FromMinutes(5));

        var values = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => store.GetAsync("s", CancellationToken.None).AsTask()));

        Assert.All(values, v => Assert.Equal("value-1", v));
        Assert.Equal(1, inner.Reads);
    }

    [Fact]
    public async Task FailedRead_IsNotCached_AndTheNextCallTriesAgain()
    {
        var inner = new CountingStore { FailNext = true };
        var store = new CachingSecretStore(inner, new FakeTimeProvider(), TimeSpan.FromMinutes(5));

        await Assert.ThrowsAsync<SecretUnavailableException>(() => store.GetAsync("s", CancellationToken.None).AsTask());
        Assert.Equal("value-2", await store.GetAsync("s", CancellationToken.None));
    }

    [Fact]
    public async Task FailingStore_ServesTheLastValueForMaxStalePastItsTtl_ThenFails()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var inner = new CountingStore();
        var store = new CachingSecretStore(inner, time, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.Equal("value-1", await store.GetAsync("s", CancellationToken.None));

        inner.FailAlways = true;
        time.Advance(TimeSpan.FromMinutes(5)); // TTL over: the store is asked, fails, the cached value is served
        Assert.Equal("value-1", await store.GetAsync("s", CancellationToken.None));
        time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1)); // the last moment of MaxStale
        Assert.Equal("value-1", await store.GetAsync("s", CancellationToken.None));
        time.Advance(TimeSpan.FromTicks(1));
        await Assert.ThrowsAsync<SecretUnavailableException>(() => store.GetAsync("s", CancellationToken.None).AsTask());
        Assert.Equal(4, inner.Reads);

        inner.FailAlways = false; // the store is back: a fresh value, fresh for a new TTL
        Assert.Equal("value-5", await store.GetAsync("s", CancellationToken.None));
    }

    [Fact]
    public async Task ZeroMaxStale_NeverServesAnExpiredValue()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var inner = new CountingStore();
        var store = new CachingSecretStore(inner, time, TimeSpan.FromMinutes(5));
        await store.GetAsync("s", CancellationToken.None);

        inner.FailAlways = true;
        time.Advance(TimeSpan.FromMinutes(5));

        await Assert.ThrowsAsync<SecretUnavailableException>(() => store.GetAsync("s", CancellationToken.None).AsTask());
    }

    private sealed class CountingStore : ISecretStore
    {
        private int _reads;
        public int Reads => _reads;
        public TimeSpan Delay { get; init; }
        public bool FailNext { get; set; }
        public bool FailAlways { get; set; }

        public async ValueTask<string> GetAsync(string name, CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref _reads);
            await Task.Delay(Delay, cancellationToken);
            if (FailNext || FailAlways)
            {
                FailNext = false;
                throw new SecretUnavailableException("down");
            }
            return "value-" + n;
        }
    }
}

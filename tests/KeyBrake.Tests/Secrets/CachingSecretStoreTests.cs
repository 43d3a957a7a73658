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

    private sealed class CountingStore : ISecretStore
    {
        private int _reads;
        public int Reads => _reads;
        public TimeSpan Delay { get; init; }
        public bool FailNext { get; set; }

        public async ValueTask<string> GetAsync(string name, CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref _reads);
            await Task.Delay(Delay, cancellationToken);
            if (FailNext)
            {
                FailNext = false;
                throw new SecretUnavailableException("down");
            }
            return "value-" + n;
        }
    }
}

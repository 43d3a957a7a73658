using KeyBrake.Keys;
using KeyBrake.Policy;

namespace KeyBrake.Tests.Keys;

public sealed class KeyLookupTests
{
    [Fact]
    public async Task FindAsync_LoadThatRacedARevoke_IsReturnedButNeverCached()
    {
        var store = new GatedStore(Key("active"));
        var lookup = new KeyLookup(store, new RefusedKeys(TimeProvider.System), new InProcessKeyChangeFeed());

        var inFlight = lookup.FindAsync("hash", CancellationToken.None).AsTask(); // reads the store: still active
        await store.Reading.Task;
        store.Current = Key("revoked") with { RevokedAt = DateTimeOffset.UnixEpoch };
        lookup.Invalidate("hash");                                                // the revoke commits and invalidates
        store.Release.SetResult();                                                // then the stale read completes

        Assert.Null((await inFlight)!.RevokedAt);                                 // the caller that started first may proceed
        Assert.False(lookup.TryGetCached("hash", out _));                         // but the stale copy was not cached
        Assert.NotNull((await lookup.FindAsync("hash", CancellationToken.None))!.RevokedAt);
    }

    [Fact]
    public async Task FindAsync_CachesUntilInvalidated()
    {
        var store = new GatedStore(Key("active"));
        store.Release.SetResult();
        var lookup = new KeyLookup(store, new RefusedKeys(TimeProvider.System), new InProcessKeyChangeFeed());

        await lookup.FindAsync("hash", CancellationToken.None);
        await lookup.FindAsync("hash", CancellationToken.None);
        Assert.Equal(1, store.Reads);

        lookup.Invalidate("hash");
        await lookup.FindAsync("hash", CancellationToken.None);
        Assert.Equal(2, store.Reads);
    }

    [Fact]
    public async Task ChangeAll_FromTheFeed_DropsEveryCachedKey()
    {
        var store = new GatedStore(Key("active"));
        var feed = new InProcessKeyChangeFeed();
        var lookup = new KeyLookup(store, new RefusedKeys(TimeProvider.System), feed);
        store.Release.SetResult();
        await lookup.FindAsync("hash", CancellationToken.None);
        Assert.True(lookup.TryGetCached("hash", out _));

        feed.Publish(KeyChange.All); // a shared engine's feed may have missed a change (SPEC §9)

        Assert.False(lookup.TryGetCached("hash", out _));
        await lookup.FindAsync("hash", CancellationToken.None);
        Assert.Equal(2, store.Reads);
    }

    [Fact]
    public async Task ConcurrentFindsAndInvalidations_NeverLeaveAStaleEntry()
    {
        var store = new GatedStore(Key("v0"));
        store.Release.SetResult();
        var lookup = new KeyLookup(store, new RefusedKeys(TimeProvider.System), new InProcessKeyChangeFeed());
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await lookup.FindAsync("hash", CancellationToken.None);
            }
        })).ToList();
        var version = 0;
        while (!stop.IsCancellationRequested)
        {
            store.Current = Key("v" + ++version);
            lookup.Invalidate("hash");
            await Task.Yield();
        }
        await Task.WhenAll(readers);

        // After the last change, the cache holds the last version or nothing; never an older one.
        if (lookup.TryGetCached("hash", out var cached))
        {
            Assert.Equal("v" + version, cached!.Label);
        }
    }

    private static VaultKey Key(string label) => new()
    {
        Id = "key_1",
        TokenHash = "hash",
        Label = label,
        Vendor = "stripe",
        Endpoints = EndpointPolicy.FromValidated(["GET /v1/x"]),
        DailyCapMicros = 1,
        ExpiresAt = DateTimeOffset.MaxValue,
        CreatedAt = DateTimeOffset.UnixEpoch,
        CreatedBy = "principal:test",
        MetadataJson = "{}",
        PolicyHash = "h",
    };

    /// <summary>A key store whose reads can be held mid-flight, to force the interleaving under test.</summary>
    private sealed class GatedStore(VaultKey initial) : IKeyStore
    {
        public volatile VaultKey Current = initial;
        public readonly TaskCompletionSource Reading = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Reads;

        public async Task<VaultKey?> FindByTokenHashAsync(string tokenHash, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Reads);
            var snapshot = Current;
            Reading.TrySetResult();
            await Release.Task;
            return snapshot;
        }

        public Task InsertAsync(VaultKey key, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<VaultKey?> FindByIdAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<VaultKey>> ListAsync(KeyQuery query, DateTimeOffset now, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<bool> UpdatePolicyAsync(VaultKey updated, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<VaultKey>> RevokeAsync(KeyRevocation revocation, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<VaultKey>> ListUnrecordedExpiriesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task MarkExpiryRecordedAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}

using System.Collections.Concurrent;
using Dapper;
using KeyBrake.Keys;
using KeyBrake.Tests.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace KeyBrake.Storage.Postgres.Tests;

/// <summary>
/// ISSUE-16: key caches on other replicas learn of changes through LISTEN/NOTIFY, with a bounded fallback when a
/// notification may have been lost (<see cref="KeyChange.All"/>).
/// </summary>
public sealed class PostgresKeyChangeFeedReplicaTests : PostgresReplicas
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task Revoke_OnReplicaA_ReachesASubscriberOnReplicaB_WithinASecond_AndAHearsItOnce()
    {
        var (a, b) = await TwoReplicasAsync(TimeProvider.System);
        var key = Key("key_1");
        await a.GetRequiredService<IKeyStore>().InsertAsync(key, CancellationToken.None);
        var onA = new Received();
        var onB = new Received();
        using var subscribedOnA = a.GetRequiredService<IKeyChangeFeed>().Subscribe(onA.Add);
        using var subscribedOnB = b.GetRequiredService<IKeyChangeFeed>().Subscribe(onB.Add);

        // As the host's revocation writer does: the store first, then the feed.
        var revoked = await a.GetRequiredService<IKeyStore>().RevokeAsync(new KeyRevocation("key_1", null, key.CreatedAt, "principal:ops", null), CancellationToken.None);
        var published = TimeProvider.System.GetTimestamp();
        a.GetRequiredService<IKeyChangeFeed>().Publish(new KeyChange(revoked[0].Id, revoked[0].TokenHash));

        Assert.Equal([new KeyChange("key_1", key.TokenHash)], onA.Changes); // before Publish returned
        await onB.WaitForAsync(c => c.KeyId == "key_1", Second);
        Assert.True(TimeProvider.System.GetElapsedTime(published) < Second);
        await Task.Delay(200);
        Assert.Equal([new KeyChange("key_1", key.TokenHash)], onA.Changes); // its own notification is not delivered again
        Assert.Equal([new KeyChange("key_1", key.TokenHash)], onB.Changes);
    }

    [Fact]
    public async Task ListenConnectionTerminated_SubscribersGetAll_WhenItIsBack_AndHearChangesAgain()
    {
        var (a, b) = await TwoReplicasAsync(TimeProvider.System);
        var onB = new Received();
        using var subscribed = b.GetRequiredService<IKeyChangeFeed>().Subscribe(onB.Add);
        var listener = b.GetRequiredService<PostgresKeyChangeFeed>().ListenerName;

        Assert.Equal(1, await TerminateAsync(listener));
        await onB.WaitForAsync(c => c.IsAll, TimeSpan.FromSeconds(10));
        a.GetRequiredService<IKeyChangeFeed>().Publish(new KeyChange("key_after", "hash"));

        await onB.WaitForAsync(c => c.KeyId == "key_after", TimeSpan.FromSeconds(5));
        Assert.Equal(1, await TerminateAsync(listener)); // one LISTEN connection per replica, back under its name
    }

    [Fact]
    public async Task KeyCacheMaxAge_Passing_SendsAllToEverySubscriber()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 6, 3, 12, 0, 0, TimeSpan.Zero));
        var replica = await StartReplicaAsync(clock);
        var received = new Received();
        using var subscribed = replica.GetRequiredService<IKeyChangeFeed>().Subscribe(received.Add);
        var maxAge = replica.GetRequiredService<PostgresStoreOptions>().KeyCacheMaxAge;

        clock.Advance(maxAge - TimeSpan.FromMilliseconds(1));
        Assert.Empty(received.Changes);
        clock.Advance(TimeSpan.FromMilliseconds(1));

        await received.WaitForAsync(c => c.IsAll, Second);
        clock.Advance(maxAge);
        Assert.Equal(2, received.Changes.Count(c => c.IsAll));
    }

    private async Task<(IServiceProvider A, IServiceProvider B)> TwoReplicasAsync(TimeProvider time)
    {
        var replicas = await StartReplicasAsync(2, time);
        return (replicas[0], replicas[1]);
    }

    /// <summary>What an operator (or a failover) does to a session: from a superuser connection.</summary>
    private async Task<int> TerminateAsync(string applicationName)
    {
        await using var connection = new NpgsqlConnection(TestPostgres.ServerConnectionString);
        return (await connection.QueryAsync<bool>(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @database AND application_name = @applicationName",
            new { database = new NpgsqlConnectionStringBuilder(ConnectionString).Database, applicationName })).Count(t => t);
    }

    private static VaultKey Key(string id) => TestKeys.Key(id, new DateTimeOffset(2026, 6, 3, 0, 0, 0, TimeSpan.Zero));

    private sealed class Received
    {
        private readonly ConcurrentQueue<KeyChange> _changes = new();

        public IReadOnlyList<KeyChange> Changes => [.. _changes];

        public void Add(KeyChange change) => _changes.Enqueue(change);

        public async Task WaitForAsync(Func<KeyChange, bool> match, TimeSpan within)
        {
            var started = TimeProvider.System.GetTimestamp();
            while (!_changes.Any(match) && TimeProvider.System.GetElapsedTime(started) < within)
            {
                await Task.Delay(5);
            }
            Assert.Contains(_changes, c => match(c));
        }
    }
}

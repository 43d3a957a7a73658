using System.Data.Common;
using Dapper;
using KeyBrake.Keys;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace KeyBrake.Storage.Postgres.Tests;

/// <summary>Keys and the dashboard's key ring shared by replicas (SPEC §3, §9).</summary>
public sealed class PostgresKeyStoreReplicaTests : PostgresReplicas
{
    private static readonly DateTimeOffset Now = new(2026, 6, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task RevokeAsync_RacingOnThreeReplicas_ExactlyOneGetsTheKeyBack()
    {
        var stores = (await StartReplicasAsync(3, TimeProvider.System)).Select(r => r.GetRequiredService<IKeyStore>()).ToArray();
        await stores[0].InsertAsync(Key("key_1"), CancellationToken.None);

        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(async () =>
        {
            var revocation = i % 2 == 0
                ? new KeyRevocation("key_1", null, Now.AddMilliseconds(i), "principal:racer" + i, null)
                : new KeyRevocation(null, "run-", Now.AddMilliseconds(i), "principal:racer" + i, null); // the kill switch too
            while (true)
            {
                try
                {
                    return await stores[i % 3].RevokeAsync(revocation, CancellationToken.None);
                }
                catch (DbException)
                {
                    // a busy row fails fast; the host's revocation writer retries, and so does this racer
                }
            }
        })));

        Assert.Single(results, r => r.Count == 1);
        Assert.All(results, r => Assert.InRange(r.Count, 0, 1));
    }

    [Fact]
    public async Task RevokeAsync_RowHeldByAnotherTransaction_FailsWithinAboutASecond_SoTheWriterRetries()
    {
        var store = (await StartReplicaAsync(TimeProvider.System)).GetRequiredService<IKeyStore>();
        await store.InsertAsync(Key("key_1"), CancellationToken.None);
        await using var other = new NpgsqlConnection(ConnectionString);
        await other.OpenAsync();
        await using var holding = await other.BeginTransactionAsync();
        await other.ExecuteAsync("SELECT 1 FROM vault_keys WHERE id = 'key_1' FOR UPDATE", transaction: holding);

        var started = TimeProvider.System.GetTimestamp();
        var refused = await Assert.ThrowsAsync<PostgresException>(() => store.RevokeAsync(new KeyRevocation("key_1", null, Now, "principal:ops", null), CancellationToken.None));

        Assert.Equal(PostgresErrorCodes.LockNotAvailable, refused.SqlState); // lock_timeout, set for the revocation only
        // at least the 1 s lock_timeout; the upper bound only says "not forever" (a busy CI machine adds its own delay,
        // and the SqlState above already tells the lock_timeout from the 1.5 s statement_timeout)
        Assert.InRange(TimeProvider.System.GetElapsedTime(started), TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(10));
        await holding.RollbackAsync();
        Assert.Single(await store.RevokeAsync(new KeyRevocation("key_1", null, Now, "principal:ops", null), CancellationToken.None));
        Assert.Single(await store.ListAsync(new KeyQuery(null, null, null, 10), Now, CancellationToken.None)); // the pool's connection is fine
    }

    [Fact]
    public async Task RevokeAsync_OnA_TellsBInItsOwnTransaction_NamingTheKey_OrEveryKeyForALargeKillSwitch()
    {
        // The store alone, without the host's change feed publishing anything: the notification must come from the
        // revocation's own transaction, so it is out before the key's key.revoked is even queued.
        var replicas = await StartReplicasAsync(2, TimeProvider.System);
        var (a, b) = (replicas[0].GetRequiredService<IKeyStore>(), replicas[1].GetRequiredService<IKeyChangeFeed>());
        var heard = new System.Collections.Concurrent.ConcurrentQueue<KeyChange>();
        using var subscription = b.Subscribe(heard.Enqueue);
        await a.InsertAsync(Key("key_1"), CancellationToken.None);
        foreach (var i in Enumerable.Range(0, 60))
        {
            await a.InsertAsync(Key("key_batch_" + i) with { Label = "batch-7-" + i }, CancellationToken.None);
        }

        Assert.Single(await a.RevokeAsync(new KeyRevocation("key_1", null, Now, "principal:ops", null), CancellationToken.None));
        await UntilAsync(() => heard.Contains(new KeyChange("key_1", VaultToken.Hash("key_1"))), "B heard key_1's revocation");
        Assert.Equal(60, (await a.RevokeAsync(new KeyRevocation(null, "batch-7-", Now, "principal:ops", null), CancellationToken.None)).Count);
        await UntilAsync(() => heard.Any(c => c.IsAll), "B heard that every key may have changed");
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var until = TimeProvider.System.GetUtcNow().AddSeconds(5);
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < until, $"not within 5 s: {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task KeyRing_WrittenOnA_IsReadOnB_AndTheFirstElementOfANameStands()
    {
        var (a, b) = ((await StartReplicaAsync(TimeProvider.System)).GetRequiredService<IKeyRingStore>(), (await StartReplicaAsync(TimeProvider.System)).GetRequiredService<IKeyRingStore>());

        a.Store("key-1", "<key id=\"1\" />");
        b.Store("key-1", "<key id=\"other\" />");
        b.Store("key-2", "<key id=\"2\" />");

        Assert.Equal(["<key id=\"1\" />", "<key id=\"2\" />"], b.ReadAll());
        Assert.Equal(b.ReadAll(), a.ReadAll());
    }

    private static VaultKey Key(string id) => TestKeys.Key(id, Now.AddHours(-1));
}

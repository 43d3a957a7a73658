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

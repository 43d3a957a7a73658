using Dapper;
using KeyBrake.Audit;
using KeyBrake.Storage.Conformance.Audit;
using KeyBrake.Tests.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace KeyBrake.Storage.Postgres.Tests;

/// <summary>
/// One chain across replicas (SPEC §7, §9; issue 16): several providers on the SAME database, each with its own
/// <see cref="AuditWriter"/>, as KeyBrake processes behind a load balancer are. Their batches race for the chain lock.
/// </summary>
public sealed class PostgresAuditReplicaTests : AuditConformance
{
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    private readonly PostgresTestStore _postgres = new();
    private readonly string _files = Directory.CreateTempSubdirectory("keybrake-replicas-").FullName;

    protected override Task<IServiceProvider> CreateStoreAsync() => _postgres.OpenAsync(Clock);

    protected override Task DeleteStoreAsync() => _postgres.DeleteAsync();

    [Fact]
    public async Task ThreeReplicas_AppendingConcurrently_GiveOneGaplessVerifiedChain_WithEachKeysRunSeqGaplessAcrossReplicas()
    {
        const int replicas = 3, producers = 4, each = 500; // 3 × 2,000 entries
        var stores = await ReplicasAsync(replicas);
        var writers = stores.Select((s, i) => ReplicaWriter(s, i)).ToArray();

        var results = await Task.WhenAll(writers.SelectMany((writer, r) => Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
        {
            var outcomes = new List<AppendResult>();
            for (var i = 0; i < each; i++)
            {
                // Seven keys used on every replica, keyless admin entries between them, half the callers awaiting their commit.
                var entry = i % 10 == 9
                    ? Entry(AuditTypes.PrincipalCreated, null)
                    : Entry(i % 3 == 0 ? AuditTypes.ProxyResponse : AuditTypes.ProxyRequest, "key_" + ((r + p + i) % 7));
                if (i % 2 == 0)
                {
                    outcomes.Add(await writer.CommitAsync(entry, LongWait, abandonable: true, CancellationToken.None));
                }
                else
                {
                    await writer.AppendAsync(entry, LongWait);
                }
            }
            return outcomes;
        }))));
        foreach (var writer in writers)
        {
            await writer.FlushAsync(CancellationToken.None);
        }

        // No batch of one replica collided with another's: every awaited entry was committed (a failed batch refuses them).
        Assert.All(results.SelectMany(r => r), r => Assert.Equal(AppendResult.Committed, r));
        var reader = ReaderOf(Store);
        var entries = await ReadAllAsync(reader);
        Assert.Equal(Enumerable.Range(1, replicas * producers * each).Select(i => (long)i), entries.Select(e => e.Seq));
        Assert.Equal(entries.Select(e => e.Hash).SkipLast(1).Prepend(AuditHash.Genesis), entries.Select(e => e.PrevHash));
        foreach (var key in entries.Where(e => e.KeyId is not null).GroupBy(e => e.KeyId))
        {
            Assert.Equal(Enumerable.Range(1, key.Count()).Select(i => (long?)i), key.Select(e => e.RunSeq));
        }
        Assert.Equal([1_000L, 2_000, 3_000, 4_000, 5_000, 6_000], reader.ReadCheckpoints().Select(c => c.Seq).Where(s => s % 1_000 == 0));
        var checkpoints = writers.SelectMany(w => w.AllCheckpoints()).Distinct().ToList();
        var check = ChainCheck.Full(reader, checkpoints, SigningKey);
        Assert.True(check.Ok, check.Problem);
        Assert.Equal(replicas * producers * each, check.Entries);
    }

    [Fact]
    public async Task KeyRevokedOnReplicaA_ProxyRequestsOnReplicaB_AfterTheRevocationAreWithdrawn_AndTheChainProvesIt()
    {
        var (a, b) = (ReplicaWriter(Store, 0), ReplicaWriter(Own(await _postgres.OpenAsync(Clock)), 1));
        // B knows the key well (its writer has the key's state cached) and keeps sending its calls while A revokes it.
        Assert.Equal(AppendResult.Committed, await b.CommitAsync(Entry(AuditTypes.ProxyRequest, "key_1"), LongWait, abandonable: true, CancellationToken.None));
        using var stop = new CancellationTokenSource();
        var revoked = 0; // 1 once A's CommitAsync of key.revoked has returned
        var hammer = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var outcomes = new List<(bool StartedAfterRevocation, AppendResult Result)>();
            while (!stop.IsCancellationRequested)
            {
                var after = Volatile.Read(ref revoked) == 1;
                outcomes.Add((after, await b.CommitAsync(Entry(AuditTypes.ProxyRequest, "key_1"), LongWait, abandonable: true, CancellationToken.None)));
            }
            return outcomes;
        })).ToArray();
        await Task.Delay(200);

        Assert.Equal(AppendResult.Committed, await a.CommitAsync(Entry(AuditTypes.KeyRevoked, "key_1"), LongWait, abandonable: false, CancellationToken.None));
        Volatile.Write(ref revoked, 1);
        await Task.Delay(200);
        await stop.CancelAsync();
        var outcomes = (await Task.WhenAll(hammer)).SelectMany(o => o).ToList();
        var afterwards = await b.CommitAsync(Entry(AuditTypes.ProxyRequest, "key_1"), LongWait, abandonable: true, CancellationToken.None);
        var otherKey = await b.CommitAsync(Entry(AuditTypes.ProxyRequest, "key_2"), LongWait, abandonable: true, CancellationToken.None);

        Assert.Equal((AppendResult.KeyRevoked, AppendResult.Committed), (afterwards, otherKey));
        Assert.Contains(outcomes, o => !o.StartedAfterRevocation && o.Result == AppendResult.Committed);
        Assert.All(outcomes, o => Assert.True(o.Result is AppendResult.Committed or AppendResult.KeyRevoked, $"{o.Result}"));
        Assert.All(outcomes.Where(o => o.StartedAfterRevocation), o => Assert.Equal(AppendResult.KeyRevoked, o.Result));
        var entries = await ReadAllAsync(ReaderOf(Store));
        var revocation = Assert.Single(entries, e => e.Type == AuditTypes.KeyRevoked).Seq;
        Assert.DoesNotContain(entries, e => e.Type == AuditTypes.ProxyRequest && e.KeyId == "key_1" && e.Seq > revocation);
        Assert.Equal(outcomes.Count(o => o.Result == AppendResult.Committed) + 1, entries.Count(e => e.KeyId == "key_1" && e.Type == AuditTypes.ProxyRequest));
        var check = ChainCheck.Full(ReaderOf(Store), [], SigningKey);
        Assert.True(check.Ok, check.Problem);
    }

    [Fact]
    public async Task CommitSignal_OfReplicaB_WakesWithinASecond_ForACommitOfReplicaA()
    {
        // B never polls the head here: what wakes it is A's notification.
        var b = Own(await _postgres.OpenAsync(Clock, o => o with { HeadPollInterval = TimeSpan.FromHours(1) }));
        var signal = b.GetRequiredService<IAuditCommitSignal>();
        var a = ReplicaWriter(Store, 0);
        Assert.True(await a.AppendDurableAsync(Entry(AuditTypes.PrincipalCreated, null), LongWait, abandonable: false, CancellationToken.None));
        await WaitForAsync(() => signal.HeadSeq == 1, LongWait);

        for (var round = 0; round < 5; round++)
        {
            var waiting = signal.WaitForCommitAfterAsync(signal.HeadSeq, CancellationToken.None);
            Assert.False(waiting.IsCompleted);
            var committed = TimeProvider.System.GetTimestamp();
            Assert.True(await a.AppendDurableAsync(Entry(AuditTypes.PrincipalCreated, null), LongWait, abandonable: false, CancellationToken.None));

            await waiting.WaitAsync(OneSecond);
            Assert.InRange(TimeProvider.System.GetElapsedTime(committed), TimeSpan.Zero, OneSecond);
            Assert.Equal(round + 2, signal.HeadSeq);
        }
    }

    [Fact]
    public async Task CommitSignal_ACommitWhoseNotificationIsLost_IsSeenByTheHeadPollWithinASecond()
    {
        var signal = Store.GetRequiredService<IAuditCommitSignal>();
        await WaitForAsync(() => signal.HeadSeq == 0, LongWait);
        var waiting = signal.WaitForCommitAfterAsync(0, CancellationToken.None);

        // A row committed without NOTIFY (as if the notification were lost): only the fallback poll can see it.
        var entry = Seal(AuditHead.Empty, Entry(AuditTypes.PrincipalCreated, null))[0];
        await using (var connection = new NpgsqlConnection(_postgres.ConnectionString))
        {
            await connection.ExecuteAsync("INSERT INTO audit_entries (seq, ts, type, prev_hash, hash) VALUES (@Seq, @Ts, @Type, @PrevHash, @Hash)", entry);
        }

        await waiting.WaitAsync(OneSecond);
        Assert.Equal(1, signal.HeadSeq);
    }

    [Fact]
    public async Task ChainStore_WhileTheDatabaseIsUnreachable_AppendsFail_ThenSucceedWithoutARestart_AndTheSignalFollowsAgain()
    {
        var writer = ReplicaWriter(Store, 0);
        var other = Own(await _postgres.OpenAsync(Clock));
        var signal = other.GetRequiredService<IAuditCommitSignal>();
        Assert.True(await writer.AppendDurableAsync(Entry(AuditTypes.ProxyRequest, "key_1", "req_before"), LongWait, abandonable: true, CancellationToken.None));
        await WaitForAsync(() => signal.HeadSeq == 1, LongWait);

        bool whileDown;
        await SetReachableAsync(false); // every session of the database is terminated, and no new one is let in
        try
        {
            whileDown = await writer.AppendDurableAsync(Entry(AuditTypes.ProxyRequest, "key_1", "req_refused"), TimeSpan.FromSeconds(2), abandonable: true, CancellationToken.None);
            await writer.AppendAsync(Entry(AuditTypes.ProxyResponse, "key_1", "req_before"), LongWait); // must not be lost: retried
        }
        finally
        {
            await SetReachableAsync(true);
        }
        var waiting = signal.WaitForCommitAfterAsync(2, CancellationToken.None);
        var afterwards = await writer.AppendDurableAsync(Entry(AuditTypes.ProxyRequest, "key_1", "req_after"), LongWait, abandonable: true, CancellationToken.None);
        await waiting.WaitAsync(LongWait); // the listener reconnected by itself

        Assert.False(whileDown); // refused (503 audit_unavailable), never forwarded, never written
        Assert.True(afterwards);
        var entries = await ReadAllAsync(ReaderOf(Store));
        Assert.Equal([("req_before", 1L, 1L), ("req_before", 2, 2), ("req_after", 3, 3)], entries.Select(e => (e.RequestId!, e.Seq, e.RunSeq!.Value)));
        Assert.True(ChainCheck.Full(ReaderOf(Store), writer.AllCheckpoints(), SigningKey).Ok);
        Assert.Null(writer.Failure);
    }

    /// <summary>The test's store and <paramref name="count"/> - 1 more providers on the same database.</summary>
    private async Task<IServiceProvider[]> ReplicasAsync(int count)
    {
        var stores = new List<IServiceProvider> { Store };
        for (var i = 1; i < count; i++)
        {
            stores.Add(Own(await _postgres.OpenAsync(Clock)));
        }
        return [.. stores];
    }

    /// <summary>A replica's writer, as the host starts it: its own checkpoint file, its provider's signal.</summary>
    private AuditWriter ReplicaWriter(IServiceProvider store, int replica)
    {
        var writer = Own(new AuditWriter(
            new AuditWriterOptions { CheckpointFile = Path.Combine(_files, $"checkpoints-{replica}.ndjson") },
            store.GetRequiredService<IAuditChainStore>(), ReaderOf(store), SigningKey, TimeProvider.System, NullLogger.Instance,
            store.GetRequiredService<InProcessCommitSignal>()));
        var check = writer.Start();
        Assert.True(check.Ok, check.Problem);
        return writer;
    }

    private Task SetReachableAsync(bool reachable) => _postgres.SetReachableAsync(reachable);

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!condition() && TimeProvider.System.GetElapsedTime(started) < timeout)
        {
            await Task.Delay(10);
        }
        Assert.True(condition());
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_files, recursive: true);
    }
}

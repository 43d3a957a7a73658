using System.Security.Cryptography;
using KeyBrake.Audit;
using KeyBrake.Spend;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace KeyBrake.Storage.Postgres.Tests;

/// <summary>
/// The proxy's path on PostgreSQL (SPEC §5, §9): a call's reservation rides its <c>proxy.request</c> into the chain
/// writer's batch, is decided in that batch's transaction (refused: the entry is withdrawn), and is settled by the entry
/// that states the call's cost. Real writers of several replicas on one database, as the host starts them.
/// </summary>
public sealed class PostgresSpendInChainTests : PostgresReplicas
{
    private const long Cap = 100 * MicroUsd.PerUsd;
    private static readonly MicroUsd FiveUsd = new(5 * MicroUsd.PerUsd);
    private static readonly TimeSpan LongWait = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 6, 3, 12, 0, 0, TimeSpan.Zero));
    private readonly ECDsa _signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly string _files = Directory.CreateTempSubdirectory("keybrake-spend-in-chain-").FullName;
    private readonly List<AuditWriter> _writers = [];

    [Fact]
    public async Task Reservations_RidingTheirRequestsOnThreeReplicas_200CallsOf5Usd_Against100UsdCap_CommitExactly20_AndSettleWithTheirResponses()
    {
        var replicas = await ReplicasAsync(3);
        using var start = new ManualResetEventSlim();
        var calls = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            start.Wait();
            var (ledger, writer) = replicas[i % 3];
            var claim = (await ledger.PrepareAsync("key_burst", FiveUsd, CancellationToken.None))!.Value.Claim(Cap);
            var result = await writer.CommitAsync(Request("key_burst", $"req_{i}"), claim, LongWait, abandonable: true, CancellationToken.None);
            return (Index: i, Result: result, Claim: claim);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(calls);

        var committed = results.Where(r => r.Result == AppendResult.Committed).ToList();
        Assert.Equal(20, committed.Count);
        Assert.All(committed, r => Assert.True(r.Claim.Outcome!.Value.Granted));
        var refused = results.Where(r => r.Result != AppendResult.Committed).ToList();
        Assert.All(refused, r => Assert.Equal(AppendResult.SpendRefused, r.Result));
        Assert.All(refused, r => Assert.True(r.Claim.Outcome is { Granted: false } o && o.SpentMicros + o.ReservedMicros + FiveUsd.Value > Cap, $"{r.Claim.Outcome}"));
        var chain = await ReadAllAsync(replicas[0]);
        Assert.Equal(committed.Select(r => $"req_{r.Index}").Order(), chain.Where(e => e.Type == AuditTypes.ProxyRequest).Select(e => e.RequestId!).Order());
        Assert.Equal(new LedgerFigures(0, Cap), await replicas[1].Ledger.TodayAsync("key_burst", CancellationToken.None));

        // Each call settled by its proxy.response on another replica than reserved it: some for less, some released.
        var spent = 0L;
        foreach (var (call, n) in committed.Select((c, n) => (c, n)))
        {
            var counted = n % 4 == 0 ? 0 : MicroUsd.PerUsd + n;
            spent += counted;
            var settlement = SpendClaim.Settle("key_burst", call.Claim.Day, FiveUsd.Value, counted);
            await replicas[(call.Index + 1) % 3].Writer.AppendAsync(Response("key_burst", $"req_{call.Index}", counted), settlement, LongWait);
        }
        foreach (var (_, writer) in replicas)
        {
            Assert.True(await writer.FlushAsync(CancellationToken.None));
        }
        Assert.Equal(new LedgerFigures(spent, 0), await replicas[2].Ledger.TodayAsync("key_burst", CancellationToken.None));
        Assert.True(ChainCheck.Full(replicas[0].Reader, [.. replicas.SelectMany(r => r.Writer.AllCheckpoints()).Distinct()], _signingKey).Ok);
    }

    [Fact]
    public async Task ARequestWithdrawnForItsKeysRevocation_GivesItsReservationBackInTheSameTransaction()
    {
        var replicas = await ReplicasAsync(2);
        var (a, b) = (replicas[0], replicas[1]);
        // B knows the key as open (its writer has the key's state cached) and has one call reserved.
        Assert.Equal(AppendResult.Committed, await CallAsync(b, "key_1", "req_before"));
        Assert.Equal(AppendResult.Committed, await a.Writer.CommitAsync(KeyEntry(AuditTypes.KeyRevoked, "key_1"), LongWait, abandonable: false, CancellationToken.None));

        // B's next batch decides the reservation (granted: the cap has room) before it learns of the revocation.
        var after = await CallAsync(b, "key_1", "req_after");

        Assert.Equal(AppendResult.KeyRevoked, after);
        Assert.Equal(new LedgerFigures(0, FiveUsd.Value), await a.Ledger.TodayAsync("key_1", CancellationToken.None));
        Assert.DoesNotContain(await ReadAllAsync(a), e => e.RequestId == "req_after");
    }

    [Fact]
    public async Task AClaimWhoseDayRowIsGone_IsWithdrawnAsUnknown_AndTheNextCallOpensTheDayAgain()
    {
        var replica = (await ReplicasAsync(1))[0];
        Assert.Equal(AppendResult.Committed, await CallAsync(replica, "key_1", "req_1"));
        await ExecuteAsync("ALTER TABLE spend_days DISABLE TRIGGER USER; DELETE FROM spend_days WHERE key_id = 'key_1'");

        var withoutRow = await CallAsync(replica, "key_1", "req_2");
        var reopened = await CallAsync(replica, "key_1", "req_3");

        Assert.Equal(AppendResult.SpendUnknown, withoutRow); // refused (503), never written: its spend could not be counted
        Assert.Equal(AppendResult.Committed, reopened);
        Assert.Equal(["req_1", "req_3"], (await ReadAllAsync(replica)).Where(e => e.Type == AuditTypes.ProxyRequest).Select(e => e.RequestId!));
        // Reopened from the chain: req_1 has no response yet, so it counts as spent (in doubt); req_3 is reserved.
        Assert.Equal(new LedgerFigures(FiveUsd.Value, FiveUsd.Value), await replica.Ledger.TodayAsync("key_1", CancellationToken.None));
    }

    [Fact]
    public async Task ARowHeldOutsideKeyBrake_RefusesOnlyItsKeysCalls_AtOnce_AndItsSettlementGoesOnceTheRowIsFree()
    {
        // A session outside KeyBrake holds a key's spend row and does not let go. The chain's batch holds the chain lock
        // of every replica: it must not wait for that row. Only that key's calls are refused, at once; other keys' calls
        // in the same batches go on; a settlement for that row is kept and applied once the row is free.
        var replica = (await ReplicasAsync(1))[0];
        var reserved = await ReservedAsync(replica, "req_open"); // key_1's day is open, $5 reserved
        Assert.Equal(AppendResult.Committed, await CallAsync(replica, "key_free", "req_free_0"));
        await using var holder = new NpgsqlConnection(ConnectionString);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM spend_days WHERE key_id = 'key_1' FOR UPDATE", holder, hold))
        {
            await lockRow.ExecuteNonQueryAsync();
        }

        // The ten calls go in one batch: the writer is held on the chain lock with an earlier call while they queue.
        Task<AppendResult[]> racing;
        using (HoldChainLock())
        {
            var first = CallAsync(replica, "key_free", "req_first");
            await WaitForAsync(() => replica.Writer.QueueDepth == 0 && !first.IsCompleted); // taken: waiting for the lock
            racing = Task.WhenAll(Enumerable.Range(0, 10).Select(i => CallAsync(replica, i % 2 == 0 ? "key_1" : "key_free", $"req_{i}")));
            await WaitForAsync(() => replica.Writer.QueueDepth == 10);
        }
        var started = TimeProvider.System.GetTimestamp();
        var calls = await racing.WaitAsync(TimeSpan.FromSeconds(20));
        var waited = TimeProvider.System.GetElapsedTime(started);
        await replica.Writer.AppendAsync(Response("key_1", "req_open", MicroUsd.PerUsd), SpendClaim.Settle("key_1", reserved.Day, FiveUsd.Value, MicroUsd.PerUsd), LongWait);
        Assert.True(await replica.Writer.FlushAsync(CancellationToken.None));
        var whileHeld = await replica.Ledger.TodayAsync("key_free", CancellationToken.None);

        Assert.Equal(Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? AppendResult.SpendBusy : AppendResult.Committed), calls);
        Assert.True(waited < TimeSpan.FromSeconds(4), $"the calls waited {waited} for the held row");
        Assert.Equal(new LedgerFigures(0, 7 * FiveUsd.Value), whileHeld);
        Assert.Contains(await ReadAllAsync(replica), e => e.Type == AuditTypes.ProxyResponse && e.RequestId == "req_open");

        await hold.RollbackAsync();
        Assert.True(await replica.Writer.FlushAsync(CancellationToken.None)); // the carried settlement rides this batch
        Assert.Equal(new LedgerFigures(MicroUsd.PerUsd, 0), await replica.Ledger.TodayAsync("key_1", CancellationToken.None));
        Assert.Equal(AppendResult.Committed, await CallAsync(replica, "key_1", "req_later"));
    }

    [Fact]
    public async Task ASettlementWhoseBatchFailedBeforeItsCommit_GoesAgainWithItsEntry()
    {
        // The database is unreachable: the batch fails before anything is sent, so it is known not to have happened,
        // and the response entry and its settlement are retried together.
        var replica = (await ReplicasAsync(1))[0];
        var claim = await ReservedAsync(replica, "req_1");

        await SetReachableAsync(false);
        try
        {
            await replica.Writer.AppendAsync(Response("key_1", "req_1", FiveUsd.Value), SpendClaim.Settle("key_1", claim.Day, FiveUsd.Value, FiveUsd.Value), LongWait);
            await WaitForAsync(() => replica.Writer.Failure is not null);
        }
        finally
        {
            await SetReachableAsync(true);
        }
        await WaitForAsync(() => replica.Writer.Failure is null);

        Assert.Contains(await ReadAllAsync(replica), e => e.Type == AuditTypes.ProxyResponse && e.RequestId == "req_1");
        Assert.Equal(new LedgerFigures(FiveUsd.Value, 0), await replica.Ledger.TodayAsync("key_1", CancellationToken.None));
    }

    [Fact]
    public async Task ASettlementWhoseBatchFailedInItsCommit_IsNotRetried_SoItsReservationStaysCounted()
    {
        // A batch that fails in the round trip that carries COMMIT may have committed with its answer lost: retried,
        // its settlement could count a reservation off twice. The entry is retried (it must not be lost); the
        // settlement is not, and the reservation stays counted at its estimate. (Here the server refuses the entry.)
        var replica = (await ReplicasAsync(1))[0];
        var claim = await ReservedAsync(replica, "req_1");
        await ExecuteAsync("""
            CREATE FUNCTION refuse_response() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN IF NEW.type = 'proxy.response' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER refuse_response BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION refuse_response();
            """);

        await replica.Writer.AppendAsync(Response("key_1", "req_1", FiveUsd.Value), SpendClaim.Settle("key_1", claim.Day, FiveUsd.Value, FiveUsd.Value), LongWait);
        await WaitForAsync(() => replica.Writer.Failure is not null);
        await ExecuteAsync("DROP TRIGGER refuse_response ON audit_entries");
        await WaitForAsync(() => replica.Writer.Failure is null);

        Assert.Contains(await ReadAllAsync(replica), e => e.Type == AuditTypes.ProxyResponse && e.RequestId == "req_1");
        Assert.Equal(new LedgerFigures(0, FiveUsd.Value), await replica.Ledger.TodayAsync("key_1", CancellationToken.None));
    }

    private static async Task<SpendClaim> ReservedAsync(Replica replica, string requestId)
    {
        var claim = (await replica.Ledger.PrepareAsync("key_1", FiveUsd, CancellationToken.None))!.Value.Claim(Cap);
        Assert.Equal(AppendResult.Committed, await replica.Writer.CommitAsync(Request("key_1", requestId), claim, LongWait, abandonable: true, CancellationToken.None));
        return claim;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var until = TimeProvider.System.GetUtcNow().AddSeconds(30);
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < until, "not within 30 s");
            await Task.Delay(10);
        }
    }

    private static async Task<AppendResult> CallAsync(Replica replica, string keyId, string requestId)
    {
        var claim = (await replica.Ledger.PrepareAsync(keyId, FiveUsd, CancellationToken.None))!.Value.Claim(Cap);
        return await replica.Writer.CommitAsync(Request(keyId, requestId), claim, LongWait, abandonable: true, CancellationToken.None);
    }

    private sealed record Replica(ISpendLedger Ledger, AuditWriter Writer, IAuditReader Reader)
    {
        public void Deconstruct(out ISpendLedger ledger, out AuditWriter writer) => (ledger, writer) = (Ledger, Writer);
    }

    /// <summary>Replicas on the test's database, each with its ledger and its chain writer as the host starts them.</summary>
    private async Task<Replica[]> ReplicasAsync(int count)
    {
        var providers = await StartReplicasAsync(count, _clock, SpendHistoryOfTheChain.UntilTheAuditReaderIsRegistered);
        return [.. providers.Select((provider, i) =>
        {
            var reader = provider.GetRequiredService<IAuditReader>();
            var writer = new AuditWriter(
                new AuditWriterOptions { CheckpointFile = Path.Combine(_files, $"checkpoints-{_writers.Count}.ndjson") },
                provider.GetRequiredService<IAuditChainStore>(), reader, _signingKey, TimeProvider.System, NullLogger.Instance,
                provider.GetRequiredService<InProcessCommitSignal>());
            _writers.Add(writer);
            Assert.True(writer.Start().Ok);
            return new Replica(provider.GetRequiredService<ISpendLedger>(), writer, reader);
        })];
    }

    /// <summary>Every committed entry, once everything the replica queued is committed.</summary>
    private static async Task<List<AuditEntry>> ReadAllAsync(Replica replica)
    {
        Assert.True(await replica.Writer.FlushAsync(CancellationToken.None));
        var entries = new List<AuditEntry>();
        await foreach (var entry in replica.Reader.ExportAsync(new AuditFilter(), CancellationToken.None))
        {
            entries.Add(entry);
        }
        return entries;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static AuditEntry Request(string keyId, string requestId) => Entry(AuditTypes.ProxyRequest, keyId, requestId, FiveUsd.Value);

    private static AuditEntry Response(string keyId, string requestId, long counted) => Entry(AuditTypes.ProxyResponse, keyId, requestId, counted);

    private static AuditEntry KeyEntry(string type, string keyId) => new()
    {
        Ts = "2026-06-03T12:00:00.000Z",
        Type = type,
        KeyId = keyId,
        Actor = "principal:ops",
    };

    private static AuditEntry Entry(string type, string keyId, string requestId, long cost) => new()
    {
        Ts = "2026-06-03T12:00:00.000Z",
        Type = type,
        RequestId = requestId,
        KeyId = keyId,
        Label = "run-1",
        Actor = "key:" + keyId,
        Vendor = "stripe",
        Method = "POST",
        Path = "/v1/payment_intents",
        CostUsdMicros = cost,
    };

    public override async Task DisposeAsync()
    {
        foreach (var writer in _writers)
        {
            await writer.DisposeAsync();
        }
        await base.DisposeAsync();
        _signingKey.Dispose();
        Directory.Delete(_files, recursive: true);
    }
}

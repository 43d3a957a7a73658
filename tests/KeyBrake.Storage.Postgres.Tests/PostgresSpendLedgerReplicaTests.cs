using Npgsql;
using KeyBrake.Spend;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.Storage.Postgres.Tests;

/// <summary>SPEC §9: "concurrent calls spread over replicas never overshoot a cap", with three replicas on one database.</summary>
public sealed class PostgresSpendLedgerReplicaTests : PostgresReplicas
{
    private const long Cap = 100 * MicroUsd.PerUsd;
    private static readonly MicroUsd FiveUsd = new(5 * MicroUsd.PerUsd);

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 6, 3, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task ReserveAsync_200CallsOf5UsdOverThreeReplicas_Against100UsdCap_GrantExactly20_AndSettledFiguresAreExact()
    {
        var ledgers = (await StartReplicasAsync(3, _clock, SpendHistoryOfTheChain.UntilTheAuditReaderIsRegistered))
            .Select(r => r.GetRequiredService<ISpendLedger>()).ToArray();
        using var start = new ManualResetEventSlim();
        var calls = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await ledgers[i % 3].ReserveAsync("key_burst", Cap, FiveUsd, CancellationToken.None);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(calls);

        var granted = results.Where(r => r.Granted).ToList();
        Assert.Equal(20, granted.Count);
        Assert.All(results.Where(r => !r.Granted), r => Assert.True(r.Figures.SpentMicros + r.Figures.ReservedMicros + FiveUsd.Value > Cap));

        // Settled on other replicas than reserved them, some for less than estimated, some released.
        var spent = 0L;
        await Task.WhenAll(granted.Select((reservation, i) => Task.Run(async () =>
        {
            var ledger = ledgers[(i + 1) % 3];
            if (i % 4 == 0)
            {
                await ledger.ReleaseAsync(reservation, CancellationToken.None);
                return;
            }
            var counted = new MicroUsd(MicroUsd.PerUsd + i);
            await ledger.SettleAsync(reservation, counted, CancellationToken.None);
            Interlocked.Add(ref spent, counted.Value);
        })));
        foreach (var ledger in ledgers)
        {
            Assert.Equal(new LedgerFigures(spent, 0), await ledger.TodayAsync("key_burst", CancellationToken.None));
        }
    }

    [Fact]
    public async Task ReserveAsync_RacingWhileAnotherReplicaOpensTheDay_IsNeverRefusedWithRoomLeft()
    {
        // A reservation whose UPDATE ran before another replica's new row was committed, and whose figures were read
        // after: the cap has room, so it must be granted (tried again), not refused.
        var ledgers = (await StartReplicasAsync(3, _clock, SpendHistoryOfTheChain.UntilTheAuditReaderIsRegistered))
            .Select(r => r.GetRequiredService<ISpendLedger>()).ToArray();
        for (var round = 0; round < 150; round++)
        {
            using var start = new ManualResetEventSlim();
            var keyId = "key_open_" + round;
            var calls = Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
            {
                start.Wait();
                return await ledgers[i % 3].ReserveAsync(keyId, Cap, FiveUsd, CancellationToken.None);
            })).ToList();
            start.Set();

            Assert.All(await Task.WhenAll(calls), r => Assert.True(r.Granted, $"refused with {r.Figures} in round {round}"));
        }
    }

    [Fact]
    public async Task TwoReplicas_AskingForTwoKeysInOppositeOrders_WhileARowIsHeld_NeverDeadlock()
    {
        // Replica 0 asks for key A, then B; replica 1 for B, then A. A third session holds A's row until both wait.
        // The port's own calls are one claim per statement, so none holds one row while waiting for another; the
        // chain's batches, which hold several, lock them in key order (keybrake_spend_apply) under the one chain lock.
        var ledgers = (await StartReplicasAsync(2, _clock, SpendHistoryOfTheChain.UntilTheAuditReaderIsRegistered))
            .Select(r => r.GetRequiredService<ISpendLedger>()).ToArray();
        const string a = "key_order_a", b = "key_order_b";
        foreach (var key in new[] { a, b })
        {
            await ledgers[0].TodayAsync(key, CancellationToken.None); // both days open: the batches below lock rows
        }
        await using var holder = new NpgsqlConnection(ConnectionString);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockA = new NpgsqlCommand($"SELECT 1 FROM spend_days WHERE key_id = '{a}' FOR UPDATE", holder, hold))
        {
            await lockA.ExecuteNonQueryAsync();
        }

        var first = new[] { ledgers[0].ReserveAsync(a, Cap, FiveUsd, CancellationToken.None).AsTask(), ledgers[0].ReserveAsync(b, Cap, FiveUsd, CancellationToken.None).AsTask() };
        await WaitForLockWaitersAsync(1);
        var second = new[] { ledgers[1].ReserveAsync(b, Cap, FiveUsd, CancellationToken.None).AsTask(), ledgers[1].ReserveAsync(a, Cap, FiveUsd, CancellationToken.None).AsTask() };
        await WaitForLockWaitersAsync(2);
        await hold.CommitAsync();
        var results = await Task.WhenAll(first.Concat(second)); // a deadlock surfaces here as a PostgresException (40P01)

        Assert.All(results, r => Assert.True(r.Granted));
        foreach (var key in new[] { a, b })
        {
            Assert.Equal(new LedgerFigures(0, 2 * FiveUsd.Value), await ledgers[1].TodayAsync(key, CancellationToken.None));
        }
    }

    [Fact]
    public async Task ADayRowThatCannotBeOpened_FailsItsReservationsClosed_AndTheLedgerGoesOn()
    {
        // Something outside KeyBrake swallows the key's new row (a trigger that skips it): the ledger opens the day,
        // finds no row, opens it again … and must give up, not spin its one loop forever with every call behind it.
        var ledger = (await StartReplicaAsync(_clock, SpendHistoryOfTheChain.UntilTheAuditReaderIsRegistered)).GetRequiredService<ISpendLedger>();
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var trigger = new NpgsqlCommand("""
                CREATE FUNCTION swallow_vanishing() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN IF NEW.key_id = 'key_vanishing' THEN RETURN NULL; END IF; RETURN NEW; END $$;
                CREATE TRIGGER swallow_vanishing BEFORE INSERT ON spend_days FOR EACH ROW EXECUTE FUNCTION swallow_vanishing();
                """, connection);
            await trigger.ExecuteNonQueryAsync();
        }

        var reserve = ledger.ReserveAsync("key_vanishing", Cap, FiveUsd, CancellationToken.None).AsTask();
        var read = ledger.TodayAsync("key_vanishing", CancellationToken.None).AsTask();

        await Assert.ThrowsAsync<SpendUnavailableException>(() => reserve.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<SpendUnavailableException>(() => read.WaitAsync(TimeSpan.FromSeconds(10)));
        var next = await ledger.ReserveAsync("key_ordinary", Cap, FiveUsd, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(next.Granted);
    }

    [Fact]
    public async Task ARowHeldOutsideKeyBrake_FailsItsBatchAfterTheLockTimeout_AndTheLedgerGoesOn()
    {
        // A session outside KeyBrake holds a key's row and never lets go: the batch that needs it must give up (and
        // its calls be refused), not hold every other key's calls behind it for the command's 30 s or forever.
        var ledger = (await StartReplicaAsync(_clock, SpendHistoryOfTheChain.UntilTheAuditReaderIsRegistered)).GetRequiredService<ISpendLedger>();
        const string held = "key_held", free = "key_free";
        await ledger.TodayAsync(held, CancellationToken.None); // the day is open: the batch below locks its row
        await using var holder = new NpgsqlConnection(ConnectionString);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand($"SELECT 1 FROM spend_days WHERE key_id = '{held}' FOR UPDATE", holder, hold))
        {
            await lockRow.ExecuteNonQueryAsync();
        }

        var started = TimeProvider.System.GetTimestamp();
        var blocked = ledger.ReserveAsync(held, Cap, FiveUsd, CancellationToken.None).AsTask();
        var refused = await Assert.ThrowsAsync<PostgresException>(() => blocked.WaitAsync(TimeSpan.FromSeconds(20)));
        var waited = TimeProvider.System.GetElapsedTime(started);
        var next = await ledger.ReserveAsync(free, Cap, FiveUsd, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(PostgresErrorCodes.LockNotAvailable, refused.SqlState);
        Assert.InRange(waited, TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(20)); // the 5 s lock_timeout, not the 30 s command time-out
        Assert.True(next.Granted);
        await hold.RollbackAsync();
        Assert.True((await ledger.ReserveAsync(held, Cap, FiveUsd, CancellationToken.None)).Granted);
    }

    [Fact]
    public async Task ManyNewDaysInOneBatch_OpenSeveralAtOnce_AndAnUnreadableChainFailsOnlyItsOwnKey()
    {
        // Midnight: every active key's first call opens a day, each a read of the chain. They must not be opened one
        // after the other with every call of the replica waiting, and one key whose read fails must not fail the rest.
        var history = new SlowHistory("key_unreadable");
        var ledger = (await StartReplicaAsync(_clock, services => services.AddSingleton<ISpendHistory>(history))).GetRequiredService<ISpendLedger>();
        using var start = new ManualResetEventSlim();
        var ordinary = Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await ledger.ReserveAsync($"key_midnight_{i}", Cap, FiveUsd, CancellationToken.None);
        })).ToList();
        var unreadable = Enumerable.Range(0, 5).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await ledger.ReserveAsync("key_unreadable", Cap, FiveUsd, CancellationToken.None);
        })).ToList();
        start.Set();

        Assert.All(await Task.WhenAll(ordinary).WaitAsync(TimeSpan.FromSeconds(30)), r => Assert.True(r.Granted));
        foreach (var call in unreadable)
        {
            var refused = await Assert.ThrowsAsync<SpendUnavailableException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.IsType<ChainUnreadableException>(refused.InnerException);
        }
        Assert.True(history.MostAtOnce > 1, $"the days were opened one after the other (at most {history.MostAtOnce} at once)");
    }

    private sealed class ChainUnreadableException() : Exception("the chain could not be read");

    /// <summary>A chain read that takes 50 ms, and fails for one key.</summary>
    private sealed class SlowHistory(string unreadableKey) : ISpendHistory
    {
        private int _now;
        private int _most;

        public int MostAtOnce => Volatile.Read(ref _most);

        public async ValueTask<long> SpentOnAsync(string keyId, DateOnly day, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref _now);
            for (var most = _most; now > most; most = _most)
            {
                Interlocked.CompareExchange(ref _most, now, most);
            }
            try
            {
                await Task.Delay(50, cancellationToken);
                return keyId == unreadableKey ? throw new ChainUnreadableException() : 0;
            }
            finally
            {
                Interlocked.Decrement(ref _now);
            }
        }
    }

    /// <summary>Until <paramref name="count"/> sessions of this database wait for a row lock.</summary>
    private async Task WaitForLockWaitersAsync(int count)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var waiting = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", connection);
        var until = TimeProvider.System.GetUtcNow().AddSeconds(10);
        while ((long)(await waiting.ExecuteScalarAsync())! < count)
        {
            Assert.True(TimeProvider.System.GetUtcNow() < until, $"{count} sessions did not wait for a row lock within 10 s");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task FirstReservationOfTheDay_OpensFromTheChain_ThenNeverReadsItAgain()
    {
        // A deployment copied from SQLite mid-day: the chain says $97 is spent today.
        var histories = new List<SpendHistoryOfTheChain.Recorded>();
        var ledgers = (await StartReplicasAsync(3, _clock, services =>
        {
            var history = new SpendHistoryOfTheChain.Recorded(97 * MicroUsd.PerUsd);
            histories.Add(history);
            services.AddSingleton<ISpendHistory>(history);
        })).Select(r => r.GetRequiredService<ISpendLedger>()).ToArray();
        using var start = new ManualResetEventSlim();
        var calls = Enumerable.Range(0, 60).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await ledgers[i % 3].ReserveAsync("key_copied", Cap, new MicroUsd(MicroUsd.PerUsd), CancellationToken.None);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(calls);
        var readsWhileOpening = histories.Sum(h => h.Reads);

        Assert.Equal(3, results.Count(r => r.Granted));
        Assert.InRange(readsWhileOpening, 1, 60);
        await ledgers[0].ReserveAsync("key_copied", Cap, new MicroUsd(1), CancellationToken.None);
        Assert.Equal(new LedgerFigures(97 * MicroUsd.PerUsd, 3 * MicroUsd.PerUsd), await ledgers[2].TodayAsync("key_copied", CancellationToken.None));
        Assert.Equal(readsWhileOpening, histories.Sum(h => h.Reads)); // the row exists: the chain is not read again
    }
}

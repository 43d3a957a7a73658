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
    public async Task Batches_HoldingTwoKeysInOppositeOrdersOnTwoReplicas_NeverDeadlock_AndBothCapsHoldExactly()
    {
        // Each replica's batches lock the rows of every key they touch. Replica 0 is asked for key A before key B, replica 1
        // for B before A, 300 times each at once: locked in arrival order, two batches would wait for each other (the
        // server then aborts one, and its calls would fail); locked in key order, they cannot.
        var ledgers = (await StartReplicasAsync(2, _clock, SpendHistoryOfTheChain.UntilTheAuditReaderIsRegistered))
            .Select(r => r.GetRequiredService<ISpendLedger>()).ToArray();
        foreach (var key in new[] { "key_order_a", "key_order_b" })
        {
            await ledgers[0].TodayAsync(key, CancellationToken.None); // both days open: every batch below locks rows
        }
        using var start = new ManualResetEventSlim();
        var calls = Enumerable.Range(0, 600).Select(i => Task.Run(async () =>
        {
            start.Wait();
            var replica = i % 2;
            var key = (i / 2 % 2 == 0) == (replica == 0) ? "key_order_a" : "key_order_b";
            var reservation = await ledgers[replica].ReserveAsync(key, Cap, FiveUsd, CancellationToken.None);
            if (reservation.Granted && i % 3 == 0)
            {
                await ledgers[1 - replica].ReleaseAsync(reservation, CancellationToken.None);
                return (key, Granted: false);
            }
            return (key, reservation.Granted);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(calls); // a deadlock surfaces here as a PostgresException (40P01)

        foreach (var key in new[] { "key_order_a", "key_order_b" })
        {
            var held = results.Count(r => r.key == key && r.Granted);
            Assert.InRange(held, 1, 20);
            Assert.Equal(new LedgerFigures(0, held * FiveUsd.Value), await ledgers[1].TodayAsync(key, CancellationToken.None));
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

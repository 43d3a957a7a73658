using KeyBrake.Spend;
using Microsoft.Extensions.DependencyInjection;

namespace KeyBrake.Storage.Conformance.Spend;

/// <summary>
/// <see cref="ISpendLedger"/>: the check against the cap and the reservation are one step (SPEC §5), so racing calls
/// never overshoot a cap; settle and release are exact under races; the day is the UTC day of the store's clock.
/// </summary>
public abstract class SpendLedgerConformance : StoreConformance
{
    private static readonly MicroUsd OneUsd = new(MicroUsd.PerUsd);

    private ISpendLedger Ledger => Store.GetRequiredService<ISpendLedger>();

    [Fact]
    public async Task ReserveAsync_200RacingCallers_GrantExactlyWhatTheCapHolds()
    {
        var ledger = Ledger;
        using var start = new ManualResetEventSlim();
        var calls = Enumerable.Range(0, 200).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await ledger.ReserveAsync("key_race", 100 * MicroUsd.PerUsd, OneUsd, CancellationToken.None);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(calls);

        Assert.Equal(100, results.Count(r => r.Granted));
        Assert.All(results.Where(r => !r.Granted), r => Assert.True(r.Figures.SpentMicros + r.Figures.ReservedMicros + OneUsd.Value > 100 * MicroUsd.PerUsd));
        Assert.Equal(new LedgerFigures(0, 100 * MicroUsd.PerUsd), await ledger.TodayAsync("key_race", CancellationToken.None));
    }

    [Fact]
    public async Task SettleAndRelease_RacingNewReservations_LeaveExactFigures_AndNeverPassTheCap()
    {
        var ledger = Ledger;
        const long cap = 50 * MicroUsd.PerUsd;
        var spent = 0L;
        var calls = Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
        {
            var reservation = await ledger.ReserveAsync("key_settle", cap, OneUsd, CancellationToken.None);
            if (!reservation.Granted)
            {
                return;
            }
            var today = await ledger.TodayAsync("key_settle", CancellationToken.None);
            Assert.True(today.SpentMicros + today.ReservedMicros <= cap);
            if (i % 2 == 0)
            {
                await ledger.SettleAsync(reservation, new MicroUsd(MicroUsd.PerUsd / 2), CancellationToken.None); // cost less than estimated
                Interlocked.Add(ref spent, MicroUsd.PerUsd / 2);
            }
            else
            {
                await ledger.ReleaseAsync(reservation, CancellationToken.None);
            }
        })).ToList();
        await Task.WhenAll(calls);

        var figures = await ledger.TodayAsync("key_settle", CancellationToken.None);
        Assert.Equal(0, figures.ReservedMicros);
        Assert.Equal(Interlocked.Read(ref spent), figures.SpentMicros);
    }

    [Fact]
    public async Task ReserveAsync_Refused_ChangesNothing_AndReportsTheFiguresAsTheyStood()
    {
        var ledger = Ledger;
        var first = await ledger.ReserveAsync("key_full", 3 * MicroUsd.PerUsd, new MicroUsd(2 * MicroUsd.PerUsd), CancellationToken.None);
        await ledger.SettleAsync(first, OneUsd, CancellationToken.None);
        var held = await ledger.ReserveAsync("key_full", 3 * MicroUsd.PerUsd, OneUsd, CancellationToken.None);

        var refused = await ledger.ReserveAsync("key_full", 3 * MicroUsd.PerUsd, new MicroUsd(MicroUsd.PerUsd + 1), CancellationToken.None);

        Assert.True(held.Granted);
        Assert.False(refused.Granted);
        Assert.Equal(new LedgerFigures(MicroUsd.PerUsd, MicroUsd.PerUsd), refused.Figures);
        Assert.Equal(new LedgerFigures(MicroUsd.PerUsd, MicroUsd.PerUsd), await ledger.TodayAsync("key_full", CancellationToken.None));
    }

    [Fact]
    public async Task UtcMidnight_StartsAnEmptyDay_AndASettlementAfterItCountsOnItsOwnDay()
    {
        var ledger = Ledger;
        Clock.SetUtcNow(new DateTimeOffset(2026, 6, 3, 23, 59, 59, TimeSpan.Zero));
        var late = await ledger.ReserveAsync("key_day", 2 * MicroUsd.PerUsd, new MicroUsd(2 * MicroUsd.PerUsd), CancellationToken.None);
        Assert.True(late.Granted);
        Assert.False((await ledger.ReserveAsync("key_day", 2 * MicroUsd.PerUsd, OneUsd, CancellationToken.None)).Granted);

        Clock.Advance(TimeSpan.FromSeconds(2)); // 2026-06-04T00:00:01Z
        await ledger.SettleAsync(late, new MicroUsd(2 * MicroUsd.PerUsd), CancellationToken.None);
        var next = await ledger.ReserveAsync("key_day", 2 * MicroUsd.PerUsd, new MicroUsd(2 * MicroUsd.PerUsd), CancellationToken.None);

        Assert.True(next.Granted); // the new day's cap is whole: yesterday's call settled on yesterday
        Assert.Equal(new LedgerFigures(0, 2 * MicroUsd.PerUsd), await ledger.TodayAsync("key_day", CancellationToken.None));
    }

    [Fact]
    public async Task Keys_AreIndependent()
    {
        var ledger = Ledger;
        Assert.True((await ledger.ReserveAsync("key_a", MicroUsd.PerUsd, OneUsd, CancellationToken.None)).Granted);

        Assert.True((await ledger.ReserveAsync("key_b", MicroUsd.PerUsd, OneUsd, CancellationToken.None)).Granted);
        Assert.False((await ledger.ReserveAsync("key_a", MicroUsd.PerUsd, new MicroUsd(1), CancellationToken.None)).Granted);
    }
}

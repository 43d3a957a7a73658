using KeyBrake.Spend;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.Tests.Spend;

public sealed class SpendLedgerTests
{
    private const long Cap = 100 * MicroUsd.PerUsd;
    private static readonly MicroUsd Five = new(5 * MicroUsd.PerUsd);

    [Fact]
    public async Task ReserveAsync_200ConcurrentFiveDollarCallsAgainstA100DollarCap_ExactlyTwentyPass()
    {
        for (var round = 0; round < 20; round++)
        {
            var ledger = new SpendLedger(TimeProvider.System, new History(0));
            await ledger.TodayAsync("key_1", default); // the day is open before the race

            var granted = await Race(200, _ => ledger.ReserveAsync("key_1", Cap, Five, default));

            Assert.Equal(20, granted.Count(r => r.Granted));
            Assert.Equal(new LedgerFigures(0, Cap), await ledger.TodayAsync("key_1", default));
        }
    }

    [Fact]
    public async Task ReserveAsync_ConcurrentFirstSightsOfMixedSizes_NeverOvershootTheCap()
    {
        for (var round = 0; round < 20; round++)
        {
            // The day is not open: the racers also race to rebuild it from the history (read outside the key's lock).
            var ledger = new SpendLedger(TimeProvider.System, new History(37 * MicroUsd.PerUsd, yields: true));

            var results = await Race(300, i => ledger.ReserveAsync("key_1", Cap, new MicroUsd((i % 7 + 1) * 1_000_001L), default));

            var granted = results.Where(r => r.Granted).Sum(r => r.Estimate.Value);
            Assert.InRange(granted, Cap - 37 * MicroUsd.PerUsd - 7_000_007L + 1, Cap - 37 * MicroUsd.PerUsd); // full up to the last size, never past it
            Assert.Equal(new LedgerFigures(37 * MicroUsd.PerUsd, granted), await ledger.TodayAsync("key_1", default));
            Assert.All(results.Where(r => !r.Granted), r => Assert.True(r.Figures.SpentMicros + r.Figures.ReservedMicros + r.Estimate.Value > Cap));
        }
    }

    [Fact]
    public async Task SettleAndReleaseAsync_RacingNewReservations_KeepTheBooksExact()
    {
        for (var round = 0; round < 20; round++)
        {
            var ledger = new SpendLedger(TimeProvider.System, new History(0));
            var held = await Race(20, _ => ledger.ReserveAsync("key_1", Cap, Five, default));
            Assert.All(held, r => Assert.True(r.Granted));

            // Half settle at $3 (an actual under the estimate), half are released, while 20 more race for what frees up.
            var settling = Race(20, i => Close(ledger, held[i], i % 2 == 0 ? new MicroUsd(3 * MicroUsd.PerUsd) : null));
            var newcomers = await Race(20, _ => ledger.ReserveAsync("key_1", Cap, Five, default));
            await settling;

            var figures = await ledger.TodayAsync("key_1", default);
            Assert.Equal(10 * 3 * MicroUsd.PerUsd, figures.SpentMicros);
            Assert.Equal(newcomers.Count(r => r.Granted) * Five.Value, figures.ReservedMicros);
            Assert.True(figures.SpentMicros + figures.ReservedMicros <= Cap);
        }
    }

    [Fact]
    public async Task ReleaseAsync_ARefusedReservation_ChangesNothing()
    {
        var ledger = new SpendLedger(TimeProvider.System, new History(98 * MicroUsd.PerUsd));
        var refused = await ledger.ReserveAsync("key_1", Cap, Five, default);

        await ledger.ReleaseAsync(refused, default);
        await ledger.SettleAsync(refused, Five, default);

        Assert.Equal(new LedgerFigures(98 * MicroUsd.PerUsd, 0), await ledger.TodayAsync("key_1", default));
    }

    [Fact]
    public async Task Settle_Rejected_ReleasesTheReservation_InDoubt_KeepsTheEstimate()
    {
        var ledger = new SpendLedger(TimeProvider.System, new History(0));

        var rejected = await ledger.ReserveAsync("key_1", Cap, Five, default);
        var inDoubt = await ledger.ReserveAsync("key_1", Cap, Five, default);
        Assert.Equal(new LedgerFigures(0, 10 * MicroUsd.PerUsd), inDoubt.Figures);
        await ledger.ReleaseAsync(rejected, default);
        await ledger.SettleAsync(inDoubt, inDoubt.Estimate, default);

        Assert.Equal(new LedgerFigures(5 * MicroUsd.PerUsd, 0), await ledger.TodayAsync("key_1", default));
    }

    [Fact]
    public async Task ReserveAsync_OverTheCap_IsRefusedWithTheFigures_AndReservesNothing()
    {
        var ledger = new SpendLedger(TimeProvider.System, new History(98 * MicroUsd.PerUsd));

        var refused = await ledger.ReserveAsync("key_1", Cap, Five, default);

        Assert.False(refused.Granted);
        Assert.Equal(new LedgerFigures(98 * MicroUsd.PerUsd, 0), refused.Figures);
        Assert.True((await ledger.ReserveAsync("key_1", Cap, new MicroUsd(2 * MicroUsd.PerUsd), default)).Granted); // exactly the cap is allowed
    }

    [Fact]
    public async Task Day_RollsOverAtUtcMidnight_AndALateSettlementDoesNotLeakIntoTheNewDay()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 3, 23, 59, 0, TimeSpan.Zero));
        var history = new History(0);
        var ledger = new SpendLedger(time, history);
        var late = await ledger.ReserveAsync("key_1", Cap, Five, default);
        await ledger.SettleAsync(await ledger.ReserveAsync("key_1", Cap, Five, default), Five, default);

        time.Advance(TimeSpan.FromMinutes(2));
        await ledger.SettleAsync(late, Five, default);

        Assert.Equal(new LedgerFigures(0, 0), await ledger.TodayAsync("key_1", default));
        Assert.Equal([new DateOnly(2026, 6, 3)], history.Asked); // rebuilt once, at first sight; a new day starts empty
    }

    [Fact]
    public async Task Day_RollsOverWhileFull_TheNewDayHasTheWholeCap()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 3, 23, 0, 0, TimeSpan.Zero));
        var ledger = new SpendLedger(time, new History(90 * MicroUsd.PerUsd));
        Assert.True((await ledger.ReserveAsync("key_1", Cap, new MicroUsd(10 * MicroUsd.PerUsd), default)).Granted);
        Assert.False((await ledger.ReserveAsync("key_1", Cap, new MicroUsd(1), default)).Granted);

        time.Advance(TimeSpan.FromHours(1));

        var granted = await ledger.ReserveAsync("key_1", Cap, new MicroUsd(Cap), default);
        Assert.Equal((true, new DateOnly(2026, 6, 4), new LedgerFigures(0, Cap)), (granted.Granted, granted.Day, granted.Figures));
    }

    [Fact]
    public async Task FirstSight_AHistoryReadThatStraddlesMidnight_IsReadAgainForTheNewDay()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 3, 23, 59, 59, TimeSpan.Zero));
        var history = new History(40 * MicroUsd.PerUsd, onRead: () => time.Advance(TimeSpan.FromSeconds(1)));
        var ledger = new SpendLedger(time, history);

        var figures = await ledger.TodayAsync("key_1", default);

        Assert.Equal([new DateOnly(2026, 6, 3), new DateOnly(2026, 6, 4)], history.Asked);
        Assert.Equal(new LedgerFigures(40 * MicroUsd.PerUsd, 0), figures); // the new day's figure, not yesterday's
    }

    [Fact]
    public async Task FirstSight_TwoCallersReadTheHistory_TheLateReadDoesNotUndoTheFirstReservation()
    {
        var first = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reads = new Queue<TaskCompletionSource<long>>([first, second]);
        var ledger = new SpendLedger(TimeProvider.System, new History(_ => new ValueTask<long>(reads.Dequeue().Task)));

        var a = ledger.ReserveAsync("key_1", Cap, Five, default).AsTask();
        var b = ledger.ReserveAsync("key_1", Cap, Five, default).AsTask();
        first.SetResult(40 * MicroUsd.PerUsd);
        Assert.True((await a).Granted);
        second.SetResult(40 * MicroUsd.PerUsd);
        Assert.True((await b).Granted);

        Assert.Equal(new LedgerFigures(40 * MicroUsd.PerUsd, 10 * MicroUsd.PerUsd), await ledger.TodayAsync("key_1", default));
    }

    [Fact]
    public async Task ReserveAsync_OnceTheDayIsOpen_CompletesSynchronously()
    {
        var ledger = new SpendLedger(TimeProvider.System, new History(0, yields: true));
        await ledger.TodayAsync("key_1", default);

        var reserving = ledger.ReserveAsync("key_1", Cap, Five, default);

        Assert.True(reserving.IsCompletedSuccessfully); // the in-memory hot path never waits, nor allocates a task
        Assert.True((await reserving).Granted);
    }

    [Fact]
    public async Task FirstSightAfterAStart_RebuildsTheDayFromHistory()
    {
        var ledger = new SpendLedger(TimeProvider.System, new History(40 * MicroUsd.PerUsd));

        Assert.Equal(new LedgerFigures(40 * MicroUsd.PerUsd, 0), await ledger.TodayAsync("key_1", default));
    }

    /// <summary>Starts <paramref name="count"/> calls at once on the thread pool and waits for them all.</summary>
    private static async Task<T[]> Race<T>(int count, Func<int, ValueTask<T>> call)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, count).Select(async i =>
        {
            await start.Task;
            return await call(i);
        }).ToArray();
        start.SetResult();
        return await Task.WhenAll(calls);
    }

    private static async ValueTask<bool> Close(SpendLedger ledger, LedgerReservation reservation, MicroUsd? settled)
    {
        await (settled is { } counted ? ledger.SettleAsync(reservation, counted, default) : ledger.ReleaseAsync(reservation, default));
        return true;
    }

    private sealed class History : ISpendHistory
    {
        private readonly Func<DateOnly, ValueTask<long>> _read;

        public History(long spent, bool yields = false, Action? onRead = null) => _read = async _ =>
        {
            onRead?.Invoke();
            if (yields)
            {
                await Task.Yield(); // like a database read: the caller goes on later, on another thread
            }
            return spent;
        };

        public History(Func<DateOnly, ValueTask<long>> read) => _read = read;

        public List<DateOnly> Asked { get; } = [];

        public ValueTask<long> SpentOnAsync(string keyId, DateOnly day, CancellationToken cancellationToken)
        {
            lock (Asked)
            {
                Asked.Add(day);
            }
            return _read(day);
        }
    }
}

using KeyBrake.Spend;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.Tests.Spend;

public sealed class SpendLedgerTests
{
    private const long Cap = 100 * MicroUsd.PerUsd;
    private static readonly MicroUsd Five = new(5 * MicroUsd.PerUsd);

    [Fact]
    public void TryReserve_200ConcurrentFiveDollarCallsAgainstA100DollarCap_ExactlyTwentyPass()
    {
        for (var round = 0; round < 20; round++)
        {
            var ledger = new SpendLedger(TimeProvider.System, new History(0));
            ledger.Today("key_1"); // the day is open before the race
            using var start = new ManualResetEventSlim();
            var passed = 0;
            var threads = Enumerable.Range(0, 200).Select(i => new Thread(() =>
            {
                start.Wait();
                if (ledger.TryReserve("key_1", Cap, Five, out _) is not null)
                {
                    Interlocked.Increment(ref passed);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            start.Set();
            threads.ForEach(t => t.Join());

            Assert.Equal(20, passed);
            Assert.Equal(new LedgerFigures(0, Cap), ledger.Today("key_1"));
        }
    }

    [Fact]
    public void Settle_Rejected_ReleasesTheReservation_InDoubt_KeepsTheEstimate()
    {
        var ledger = new SpendLedger(TimeProvider.System, new History(0));

        var rejected = ledger.TryReserve("key_1", Cap, Five, out _)!;
        var inDoubt = ledger.TryReserve("key_1", Cap, Five, out var figures)!;
        Assert.Equal(new LedgerFigures(0, 10 * MicroUsd.PerUsd), figures);
        ledger.Release(rejected);
        ledger.Settle(inDoubt, inDoubt.Estimate);

        Assert.Equal(new LedgerFigures(5 * MicroUsd.PerUsd, 0), ledger.Today("key_1"));
    }

    [Fact]
    public void TryReserve_OverTheCap_IsRefusedWithTheFigures_AndReservesNothing()
    {
        var ledger = new SpendLedger(TimeProvider.System, new History(98 * MicroUsd.PerUsd));

        var refused = ledger.TryReserve("key_1", Cap, Five, out var figures);

        Assert.Null(refused);
        Assert.Equal(new LedgerFigures(98 * MicroUsd.PerUsd, 0), figures);
        Assert.NotNull(ledger.TryReserve("key_1", Cap, new MicroUsd(2 * MicroUsd.PerUsd), out _)); // exactly the cap is allowed
    }

    [Fact]
    public void Day_RollsOverAtUtcMidnight_AndALateSettlementDoesNotLeakIntoTheNewDay()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 3, 23, 59, 0, TimeSpan.Zero));
        var history = new History(0);
        var ledger = new SpendLedger(time, history);
        var late = ledger.TryReserve("key_1", Cap, Five, out _)!;
        ledger.Settle(ledger.TryReserve("key_1", Cap, Five, out _)!, Five);

        time.Advance(TimeSpan.FromMinutes(2));
        ledger.Settle(late, Five);

        Assert.Equal(new LedgerFigures(0, 0), ledger.Today("key_1"));
        Assert.Equal([new DateOnly(2026, 6, 3)], history.Asked); // rebuilt once, at first sight; a new day starts empty
    }

    [Fact]
    public void FirstSightAfterAStart_RebuildsTheDayFromHistory()
    {
        var ledger = new SpendLedger(TimeProvider.System, new History(40 * MicroUsd.PerUsd));

        Assert.Equal(new LedgerFigures(40 * MicroUsd.PerUsd, 0), ledger.Today("key_1"));
    }

    private sealed class History(long spent) : ISpendHistory
    {
        public List<DateOnly> Asked { get; } = [];

        public long SpentOn(string keyId, DateOnly day)
        {
            Asked.Add(day);
            return spent;
        }
    }
}

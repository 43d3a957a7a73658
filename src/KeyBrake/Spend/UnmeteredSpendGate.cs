using KeyBrake.Keys;

namespace KeyBrake.Spend;

/// <summary>Every call costs 0 and the whole cap remains: for the benchmark's "no spend" variant (bench/), never shipped as a choice.</summary>
internal sealed class UnmeteredSpendGate : ISpendGate
{
    public ValueTask<SpendReservation> ReserveAsync(VaultKey key, HttpContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new SpendReservation(default, new MicroUsd(key.DailyCapMicros)));

    public ValueTask<MicroUsd> SettleAsync(SpendReservation reservation, HttpContext context, int? upstreamStatus, CancellationToken cancellationToken) =>
        ValueTask.FromResult(default(MicroUsd));

    public ValueTask ReleaseAsync(SpendReservation reservation, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<(MicroUsd Spent, MicroUsd Reserved)> TodayAsync(VaultKey key, CancellationToken cancellationToken) =>
        ValueTask.FromResult((default(MicroUsd), default(MicroUsd)));
}

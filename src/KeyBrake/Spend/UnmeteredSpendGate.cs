using KeyBrake.Keys;

namespace KeyBrake.Spend;

/// <summary>Placeholder until pricing lands: every call costs 0, so the whole cap remains.</summary>
internal sealed class UnmeteredSpendGate : ISpendGate
{
    public ValueTask<SpendReservation> ReserveAsync(VaultKey key, HttpContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new SpendReservation(default, new MicroUsd(key.DailyCapMicros)));

    public ValueTask<MicroUsd> SettleAsync(SpendReservation reservation, int? upstreamStatus, CancellationToken cancellationToken) =>
        ValueTask.FromResult(default(MicroUsd));

    public ValueTask ReleaseAsync(SpendReservation reservation, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<(MicroUsd Spent, MicroUsd Reserved)> TodayAsync(VaultKey key, CancellationToken cancellationToken) =>
        ValueTask.FromResult((default(MicroUsd), default(MicroUsd)));
}

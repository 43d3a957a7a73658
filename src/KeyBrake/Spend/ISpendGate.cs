using KeyBrake.Keys;

namespace KeyBrake.Spend;

/// <summary>
/// SPEC §4 step 6 and §5: price a call and reserve it against the key's daily cap, then settle it from the response.
/// The spend issue fills this in; until then <see cref="UnmeteredSpendGate"/> reserves nothing.
/// </summary>
internal interface ISpendGate
{
    ValueTask<SpendReservation> ReserveAsync(VaultKey key, HttpContext context, CancellationToken cancellationToken);

    ValueTask SettleAsync(SpendReservation reservation, int? upstreamStatus, CancellationToken cancellationToken);

    /// <summary>Today's spent and reserved amounts for a key, for the admin API.</summary>
    ValueTask<(MicroUsd Spent, MicroUsd Reserved)> TodayAsync(VaultKey key, CancellationToken cancellationToken);
}

/// <summary>The outcome of a reservation: <see cref="DenialCode"/> is null when the call may go ahead.</summary>
internal sealed record SpendReservation(MicroUsd Estimate, MicroUsd Remaining, string? DenialCode = null);

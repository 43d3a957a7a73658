using KeyBrake.Keys;

namespace KeyBrake.Spend;

/// <summary>
/// SPEC §4 step 6 and §5: price a call and reserve it against the key's daily cap, then settle it from the response.
/// The spend issue fills this in; until then <see cref="UnmeteredSpendGate"/> reserves nothing.
/// </summary>
internal interface ISpendGate
{
    ValueTask<SpendReservation> ReserveAsync(VaultKey key, HttpContext context, CancellationToken cancellationToken);

    /// <summary>Settles a forwarded call from the upstream status (null: no answer); returns what it counts against the cap.</summary>
    ValueTask<MicroUsd> SettleAsync(SpendReservation reservation, int? upstreamStatus, CancellationToken cancellationToken);

    /// <summary>Gives a reservation back: the call was not forwarded.</summary>
    ValueTask ReleaseAsync(SpendReservation reservation, CancellationToken cancellationToken);

    /// <summary>Today's spent and reserved amounts for a key, for the admin API.</summary>
    ValueTask<(MicroUsd Spent, MicroUsd Reserved)> TodayAsync(VaultKey key, CancellationToken cancellationToken);
}

/// <summary>The outcome of a reservation: <see cref="DenialCode"/> is null when the call may go ahead.</summary>
internal sealed record SpendReservation(MicroUsd Estimate, MicroUsd Remaining, string? DenialCode = null);

using KeyBrake.Keys;

namespace KeyBrake.Spend;

/// <summary>SPEC §4 step 7 and §5: price a call and reserve it against the key's daily cap, then settle it from the response.</summary>
internal interface ISpendGate
{
    ValueTask<SpendReservation> ReserveAsync(VaultKey key, HttpContext context, CancellationToken cancellationToken);

    /// <summary>Settles a forwarded call from the upstream status (null: no answer); returns what it counts against the cap.</summary>
    ValueTask<MicroUsd> SettleAsync(SpendReservation reservation, HttpContext context, int? upstreamStatus, CancellationToken cancellationToken);

    /// <summary>Gives a reservation back: the call was not forwarded.</summary>
    ValueTask ReleaseAsync(SpendReservation reservation, CancellationToken cancellationToken);

    /// <summary>Today's spent and reserved amounts for a key, for the admin API.</summary>
    ValueTask<(MicroUsd Spent, MicroUsd Reserved)> TodayAsync(VaultKey key, CancellationToken cancellationToken);
}

/// <summary>
/// The outcome of a reservation: <see cref="Denial"/> is null when the call may go ahead. <see cref="Remaining"/> is
/// the cap minus spent and reserved, this reservation included (X-KeyBrake-Remaining-Usd).
/// </summary>
internal sealed record SpendReservation(MicroUsd Estimate, MicroUsd Remaining, KeyBrakeError? Denial = null)
{
    public LedgerReservation? Ledger { get; init; }

    public Pricing.Price? Price { get; init; }
}

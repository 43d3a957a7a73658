namespace KeyBrake.Spend;

/// <summary>
/// Today's spend per key against its daily cap (UTC day). The check against the cap and the reservation are one step,
/// so concurrent calls never overshoot it. An in-memory ledger completes synchronously; a shared one may wait.
/// </summary>
public interface ISpendLedger
{
    /// <summary>
    /// Reserves <paramref name="estimate"/> unless spent + reserved + estimate would pass <paramref name="capMicros"/>.
    /// The result is granted or not, with the key's figures after the reservation, or as they stood when refused.
    /// </summary>
    ValueTask<LedgerReservation> ReserveAsync(string keyId, long capMicros, MicroUsd estimate, CancellationToken cancellationToken);

    /// <summary>Turns a granted reservation into spend: <paramref name="counted"/> (actual, estimate when in doubt, 0 when rejected).</summary>
    ValueTask SettleAsync(LedgerReservation reservation, MicroUsd counted, CancellationToken cancellationToken);

    /// <summary>Gives a granted reservation back: nothing was spent.</summary>
    ValueTask ReleaseAsync(LedgerReservation reservation, CancellationToken cancellationToken);

    ValueTask<LedgerFigures> TodayAsync(string keyId, CancellationToken cancellationToken);

    /// <summary>
    /// A ledger that keeps spend beside the audit chain (PostgreSQL) decides a proxied call's reservation in the same
    /// transaction as its <c>proxy.request</c> entry, and settles it with the entry that states the call's cost: one
    /// commit for both, no round trip of its own. It prepares the reservation here (the key's day opened, nothing
    /// reserved yet: <see cref="LedgerReservation.InChain"/>). Null: this ledger decides at once, with <see cref="ReserveAsync"/>.
    /// </summary>
    ValueTask<LedgerReservation?> PrepareAsync(string keyId, MicroUsd estimate, CancellationToken cancellationToken) =>
        ValueTask.FromResult<LedgerReservation?>(null);
}

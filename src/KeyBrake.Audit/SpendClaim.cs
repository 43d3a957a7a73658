namespace KeyBrake.Audit;

/// <summary>
/// A change to a key's day of spend (SPEC §5) that a store keeping spend beside the chain (PostgreSQL) decides inside
/// the audit batch's transaction, together with the entry that carries it: a reservation with its call's
/// <c>proxy.request</c> (granted, or refused and the entry withdrawn), a settlement or release with the entry that states
/// it. One transaction, one commit, and the ledger and the chain never disagree about a call.
/// </summary>
public sealed class SpendClaim
{
    private SpendClaim(string keyId, DateOnly day, long estimate, long? cap, long counted) =>
        (KeyId, Day, Estimate, Cap, Counted) = (keyId, day, estimate, cap, counted);

    public string KeyId { get; }

    /// <summary>The UTC day the reservation counts against (a settlement after midnight still settles that day).</summary>
    public DateOnly Day { get; }

    public long Estimate { get; }

    /// <summary>The key's daily cap for a reservation; null for a settlement.</summary>
    public long? Cap { get; }

    /// <summary>What a settlement turns the reservation into (0: released).</summary>
    public long Counted { get; }

    public bool IsReservation => Cap is not null;

    /// <summary>
    /// Set by the store inside the batch, before the entries are sealed: granted or not, with the key's figures after it
    /// (or as they stood when refused). Null when the key's day has no row (nothing decided).
    /// </summary>
    public SpendOutcome? Outcome { get; set; }

    /// <summary>
    /// Set by the store with <see cref="Outcome"/> null: the key's row is held by another session (outside KeyBrake), so
    /// nothing was decided and nothing waited for it. A reservation's call is refused (503); a settlement goes again.
    /// </summary>
    public bool Busy { get; set; }

    public static SpendClaim Reserve(string keyId, DateOnly day, long estimate, long cap) => new(keyId, day, estimate, cap, 0);

    public static SpendClaim Settle(string keyId, DateOnly day, long estimate, long counted) => new(keyId, day, estimate, null, counted);

    /// <summary>Gives this granted reservation back (its entry was withdrawn after all).</summary>
    public SpendClaim Release() => Settle(KeyId, Day, Estimate, 0);
}

/// <summary>What the store decided for a <see cref="SpendClaim"/>: the key's spent and reserved micro-USD after it.</summary>
public readonly record struct SpendOutcome(bool Granted, long SpentMicros, long ReservedMicros);

namespace KeyBrake.Audit;

/// <summary>What became of an entry a caller waited for (<see cref="AuditWriter.CommitAsync"/>).</summary>
public enum AppendResult
{
    /// <summary>Sealed into the chain and durable.</summary>
    Committed,

    /// <summary>Not committed in time, or the database refused it; a withdrawable entry is then never written.</summary>
    NotCommitted,

    /// <summary>
    /// Withdrawn, never written: a <c>proxy.request</c> whose key's <c>key.revoked</c> is already sealed (SPEC §7,
    /// revocation is provable from the chain). Its call is refused with 401 <c>key_revoked</c>.
    /// </summary>
    KeyRevoked,

    /// <summary>As <see cref="KeyRevoked"/>, after the key's <c>key.expired</c>: 401 <c>key_expired</c>.</summary>
    KeyExpired,

    /// <summary>
    /// Withdrawn, never written: the reservation the entry carried (<see cref="SpendClaim"/>) would pass the key's daily
    /// cap; its <see cref="SpendClaim.Outcome"/> has the figures. Its call is refused with 402 <c>daily_cap_exceeded</c>.
    /// </summary>
    SpendRefused,

    /// <summary>
    /// Withdrawn, never written: the store has no spend row for the reservation's key and day (it was not opened, or
    /// something outside KeyBrake removed it), so nothing could be decided. Its call is refused with 503.
    /// </summary>
    SpendUnknown,

    /// <summary>
    /// Withdrawn, never written: the store could not decide the reservation now (its key's spend row is held by a
    /// session outside KeyBrake). Its call is refused with 503; a retry may succeed.
    /// </summary>
    SpendBusy,
}

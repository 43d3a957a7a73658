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
}

namespace KeyBrake.Spend;

/// <summary>
/// A reservation on <see cref="Day"/> (UTC), or a refused one (<see cref="Granted"/> false). <see cref="Figures"/> are
/// the key's spent and reserved amounts after it, or as they stood when it was refused. A value: no allocation per call.
/// <see cref="InChain"/>: decided with the call's audit entries, in the chain's transactions (<see cref="ISpendLedger.PrepareAsync"/>):
/// not granted until its <c>proxy.request</c> is committed, then settled by the entry that states the call's cost.
/// </summary>
public readonly record struct LedgerReservation(string KeyId, DateOnly Day, MicroUsd Estimate, bool Granted, LedgerFigures Figures, bool InChain = false)
{
    /// <summary>The claim that asks for this reservation in the chain's batch.</summary>
    public Audit.SpendClaim Claim(long capMicros) => Audit.SpendClaim.Reserve(KeyId, Day, Estimate.Value, capMicros);

    /// <summary>The claim that settles this granted reservation at <paramref name="counted"/> (0: released).</summary>
    public Audit.SpendClaim Settlement(MicroUsd counted) => Audit.SpendClaim.Settle(KeyId, Day, Estimate.Value, counted.Value);
}

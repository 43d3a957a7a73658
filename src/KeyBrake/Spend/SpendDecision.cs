using KeyBrake.Spend.Pricing;

namespace KeyBrake.Spend;

/// <summary>
/// The spend step's answer for one call, with the figures a refusal states (SPEC §5); the proxy turns a refusal into
/// its error response. <see cref="Ledger"/> holds the reservation (granted only when <see cref="Verdict"/> is
/// <see cref="SpendVerdict.Reserved"/>) and the key's figures: after the reservation, or as they stood when refused.
/// </summary>
internal sealed record SpendDecision(SpendVerdict Verdict, string Vendor, Price Price, MicroUsd Cap = default, LedgerReservation Ledger = default)
{
    /// <summary>What the call counts against the cap until settled (0 when unpriceable): the audit's <c>cost_usd_micros</c>.</summary>
    public MicroUsd Estimate => Ledger.Estimate;

    public MicroUsd SpentToday => new(Ledger.Figures.SpentMicros);

    public MicroUsd ReservedToday => new(Ledger.Figures.ReservedMicros);

    /// <summary>The cap minus spent and reserved (this reservation included once granted): X-KeyBrake-Remaining-Usd.</summary>
    public MicroUsd Remaining => Verdict == SpendVerdict.Unpriceable
        ? default
        : new(Math.Max(0, Cap.Value - Ledger.Figures.SpentMicros - Ledger.Figures.ReservedMicros));

    /// <summary>Why the call cannot be priced, when <see cref="Verdict"/> is <see cref="SpendVerdict.Unpriceable"/>.</summary>
    public string? Refusal => Price.Refusal;
}

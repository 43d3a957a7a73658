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

    /// <summary>The claim a <see cref="SpendVerdict.InChain"/> decision sends with the call's <c>proxy.request</c>.</summary>
    public Audit.SpendClaim? Claim() => Verdict == SpendVerdict.InChain ? Ledger.Claim(Cap.Value) : null;

    /// <summary>
    /// What the chain's transaction decided for an <see cref="SpendVerdict.InChain"/> claim: reserved (the entry was
    /// committed), over the cap (the entry withdrawn, with the figures), or nothing reserved (the entry not written).
    /// </summary>
    public SpendDecision Decided(Audit.SpendOutcome? outcome, bool committed) => outcome switch
    {
        { Granted: true } when committed => this with { Verdict = SpendVerdict.Reserved, Ledger = Ledger with { Granted = true, Figures = Figures(outcome.Value) } },
        { Granted: false } => this with { Verdict = SpendVerdict.CapExceeded, Ledger = Ledger with { Figures = Figures(outcome.Value) } },
        _ => this,
    };

    /// <summary>The claim that settles a granted <see cref="LedgerReservation.InChain"/> reservation with the entry that states its cost.</summary>
    public Audit.SpendClaim? Settlement(MicroUsd counted) => Ledger is { InChain: true, Granted: true } ? Ledger.Settlement(counted) : null;

    private static LedgerFigures Figures(Audit.SpendOutcome outcome) => new(outcome.SpentMicros, outcome.ReservedMicros);
}

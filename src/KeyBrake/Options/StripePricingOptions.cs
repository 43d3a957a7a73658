namespace KeyBrake;

/// <summary><c>KeyBrake:Pricing:stripe</c>: Stripe is priced from the amounts a call moves, so only the operator's free writes are set here.</summary>
internal sealed record StripePricingOptions
{
    /// <summary>Writes the operator knows cost nothing (SPEC §5 default deny), as <c>[METHOD ]PATH</c> patterns (SPEC §4 step 5).</summary>
    public string[] FreeWrites { get; init; } = [];
}

namespace KeyBrake;

/// <summary><c>KeyBrake:Pricing:resend</c>: the price of one email to one recipient, and the operator's free writes.</summary>
internal sealed record ResendPricingOptions
{
    /// <summary>One email to one recipient (to + cc + bcc each count).</summary>
    public long EmailMicros { get; init; }

    /// <summary>Writes the operator knows cost nothing (SPEC §5 default deny), as <c>[METHOD ]PATH</c> patterns (SPEC §4 step 5).</summary>
    public string[] FreeWrites { get; init; } = [];
}

namespace KeyBrake;

/// <summary>
/// <c>KeyBrake:Pricing</c> (SPEC §5): what a call costs against a key's cap. Money is integer micro-USD; an FX rate is
/// the micro-USD of one major unit of the currency (1 EUR = 1,100,000 µUSD). Defaults are in
/// <see cref="KeyBrakeHostExtensions.Defaults"/> and the README; set your own rates. Each vendor's section
/// (<c>KeyBrake:Pricing:{vendor}</c>, bound case-insensitively) also holds the operator's <c>FreeWrites</c>.
/// </summary>
internal sealed record PricingOptions
{
    public Dictionary<string, long> Fx { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Comma-separated currencies whose amounts have no minor unit (Stripe's list: jpy, krw, …).</summary>
    public string ZeroDecimalCurrencies { get; init; } = "";

    /// <summary>Comma-separated currencies with three decimals (bhd, jod, kwd, omr, tnd).</summary>
    public string ThreeDecimalCurrencies { get; init; } = "";

    public StripePricingOptions Stripe { get; init; } = new();

    public TwilioPricingOptions Twilio { get; init; } = new();

    public ResendPricingOptions Resend { get; init; } = new();

    /// <summary>Each vendor's <c>FreeWrites</c>, by the vendor's name as configuration and errors spell it.</summary>
    public IEnumerable<(string Vendor, string[] FreeWrites)> FreeWrites =>
        [("stripe", Stripe.FreeWrites), ("twilio", Twilio.FreeWrites), ("resend", Resend.FreeWrites)];
}

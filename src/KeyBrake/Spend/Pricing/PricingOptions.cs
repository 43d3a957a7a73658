namespace KeyBrake.Spend.Pricing;

/// <summary>
/// <c>KeyBrake:Pricing</c> (SPEC §5): what a call costs against a key's cap. Money is integer micro-USD; an FX rate is
/// the micro-USD of one major unit of the currency (1 EUR = 1,100,000 µUSD). Defaults are in
/// <see cref="KeyBrakeHostExtensions.Defaults"/> and the README; set your own rates.
/// </summary>
internal sealed record PricingOptions
{
    public Dictionary<string, long> Fx { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Comma-separated currencies whose amounts have no minor unit (Stripe's list: jpy, krw, …).</summary>
    public string ZeroDecimalCurrencies { get; init; } = "";

    /// <summary>Comma-separated currencies with three decimals (bhd, jod, kwd, omr, tnd).</summary>
    public string ThreeDecimalCurrencies { get; init; } = "";

    public TwilioPricingOptions Twilio { get; init; } = new();

    public ResendPricingOptions Resend { get; init; } = new();
}

internal sealed record TwilioPricingOptions
{
    /// <summary>One SMS segment (GSM-7: 160 / 153 characters, UCS-2: 70 / 67).</summary>
    public long SegmentMicros { get; init; }

    /// <summary>An MMS (media, no body).</summary>
    public long MmsMicros { get; init; }

    /// <summary>Reserved per call created; settled from the response's price when it states one.</summary>
    public long CallMicros { get; init; }

    /// <summary>Buying a phone number.</summary>
    public long PhoneNumberMicros { get; init; }
}

internal sealed record ResendPricingOptions
{
    /// <summary>One email to one recipient (to + cc + bcc each count).</summary>
    public long EmailMicros { get; init; }
}

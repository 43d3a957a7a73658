namespace KeyBrake.Spend.Pricing;

/// <summary>
/// Prices a proxied call for its vendor (SPEC §5). The body is parsed at most once, and only when the endpoint can
/// move money. A vendor KeyBrake has no pricing for gets 0 for reads and 422 for anything else: deny by default.
/// </summary>
internal sealed class Pricer(PricingOptions options)
{
    private readonly StripePricing _stripe = new(new Currencies(options));
    private readonly TwilioPricing _twilio = new(options.Twilio);
    private readonly ResendPricing _resend = new(options.Resend);

    public Price Price(string vendor, string method, string path, string? contentType, ReadOnlyMemory<byte> body, string? query)
    {
        (RequestFields? Fields, string? Error)? parsed = null;
        return Price(vendor, method, path, () => parsed ??= (RequestFields.Parse(contentType, body.Span, query, out var error), error));
    }

    /// <summary>Prices with fields parsed elsewhere (once per call: see ProxyCall.ReadFields); <paramref name="read"/> runs only if needed.</summary>
    public Price Price(string vendor, string method, string path, Func<(RequestFields? Fields, string? Error)> read)
    {
        return vendor switch
        {
            "stripe" => _stripe.Price(method, path, read),
            "twilio" => _twilio.Price(method, path, read),
            "resend" => _resend.Price(method, path, read),
            _ when method is "GET" or "HEAD" or "OPTIONS" => Pricing.Price.Free,
            _ => Pricing.Price.Unpriceable($"KeyBrake has no pricing for vendor '{vendor}', so it forwards only reads to it"),
        };
    }
}

namespace KeyBrake.Spend.Pricing;

/// <summary>
/// Twilio (SPEC §5): a message costs its segments × the segment price (an MMS the MMS price), a call a configured
/// reservation, buying a number the number price; each is settled from the response's <c>price</c> when it states one.
/// </summary>
internal sealed class TwilioPricing(TwilioPricingOptions prices)
{
    public Price Price(string method, string path, Func<(RequestFields? Fields, string? Error)> read)
    {
        if (method != "POST")
        {
            return Pricing.Price.Free;
        }
        if (path.EndsWith("/Calls.json", StringComparison.Ordinal))
        {
            return new Price(new MicroUsd(prices.CallMicros));
        }
        if (path.EndsWith("/IncomingPhoneNumbers.json", StringComparison.Ordinal))
        {
            return new Price(new MicroUsd(prices.PhoneNumberMicros));
        }
        if (!path.EndsWith("/Messages.json", StringComparison.Ordinal))
        {
            return Pricing.Price.Free;
        }
        var (fields, error) = read();
        if (fields is null || fields.Unparsed || fields.Json is not null)
        {
            return Pricing.Price.Unpriceable(error ?? "a Twilio message must be form-encoded (application/x-www-form-urlencoded) to be priced");
        }
        if (!fields.TryGetSingle("Body", out var body, out error))
        {
            return Pricing.Price.Unpriceable(error!);
        }
        if (body is null)
        {
            return fields.Has("MediaUrl")
                ? new Price(new MicroUsd(prices.MmsMicros))
                : Pricing.Price.Unpriceable("a message without 'Body' or 'MediaUrl' (a content template) cannot be priced before it is sent");
        }
        var (segments, _) = SmsSegments.Count(body);
        return new Price(new MicroUsd(segments * prices.SegmentMicros));
    }
}

using KeyBrake.Spend;
using KeyBrake.Spend.Pricing;

namespace KeyBrake.Vendors.Twilio;

/// <summary>
/// Twilio (SPEC §5): a message costs its segments × the segment price, an MMS (any <c>MediaUrl</c>, whatever the
/// body) the MMS price, a call a configured reservation, buying a number the number price; each is settled from the
/// response's <c>price</c> when it states one. Only the <c>.json</c> forms are priced: <c>/Messages</c>,
/// <c>/Messages.xml</c> or <c>/messages.json</c> are other paths, and 422 unless an operator lists them.
/// </summary>
internal sealed class TwilioPricing(TwilioPricingOptions prices) : IVendorPricing
{
    private enum Rule
    {
        Message,
        Call,
        PhoneNumber,
    }

    /// <summary>
    /// Mobile and toll-free numbers (<c>IncomingPhoneNumbers/Mobile.json</c>, <c>/TollFree.json</c>) cost more than the
    /// configured local-number price, so they stay unpriced (422) rather than under-counted.
    /// </summary>
    private static readonly (string, Rule)[] Priced =
    [
        ("POST /2010-04-01/Accounts/*/Messages.json", Rule.Message),
        ("POST /2010-04-01/Accounts/*/Calls.json", Rule.Call),
        ("POST /2010-04-01/Accounts/*/IncomingPhoneNumbers.json", Rule.PhoneNumber),
        ("POST /2010-04-01/Accounts/*/IncomingPhoneNumbers/Local.json", Rule.PhoneNumber),
    ];

    /// <summary>
    /// Redacting or cancelling a message (its only updatable fields are an empty Body and Status=canceled) and deleting
    /// records. Updating a live call (a redirect can dial out) or a number is left out (422 unless listed).
    /// </summary>
    private static readonly string[] Free =
    [
        "POST /2010-04-01/Accounts/*/Messages/*",
        "DELETE /2010-04-01/Accounts/*/Messages/*",
        "DELETE /2010-04-01/Accounts/*/Messages/*/Media/*",
        "DELETE /2010-04-01/Accounts/*/Calls/*",
        "DELETE /2010-04-01/Accounts/*/Recordings/*",
        "DELETE /2010-04-01/Accounts/*/IncomingPhoneNumbers/*",
    ];

    /// <summary>List parameters twilio-node repeats (<c>MediaUrl=a&amp;MediaUrl=b</c>); how many there are does not change the price.</summary>
    private static readonly HashSet<string> Lists = new(["MediaUrl", "PersistentAction"], StringComparer.OrdinalIgnoreCase);

    private readonly WriteTable<Rule> _writes = new(TwilioProfile.VendorName, Priced, Free, prices.FreeWrites);

    public string Vendor => TwilioProfile.VendorName;

    public Price Price(string method, string path, Func<(RequestFields? Fields, string? Error)> read)
    {
        if (!_writes.TryPriced(method, path, out var rule))
        {
            return _writes.FreeOrUnpriceable(method, path);
        }
        switch (rule)
        {
            case Rule.Call:
                return new Price(new MicroUsd(prices.CallMicros));
            case Rule.PhoneNumber:
                return new Price(new MicroUsd(prices.PhoneNumberMicros));
        }
        var (fields, error) = read();
        if (fields is null || fields.Unparsed || fields.Json is not null)
        {
            return Spend.Pricing.Price.Unpriceable(error ?? "a Twilio message must be form-encoded (application/x-www-form-urlencoded) to be priced");
        }
        if (fields.Repeated(Lists) is { } repeated)
        {
            return Spend.Pricing.Price.Unpriceable(repeated);
        }
        if (fields.Has("ContentSid"))
        {
            return Spend.Pricing.Price.Unpriceable("a message from a content template (ContentSid) cannot be priced before it is sent");
        }
        if (!fields.TryGetSingle("Body", out var body, out error) || !fields.TryGetSingle("SendAsMms", out var sendAsMms, out error))
        {
            return Spend.Pricing.Price.Unpriceable(error!);
        }
        if (sendAsMms is not (null or "true" or "false"))
        {
            return Spend.Pricing.Price.Unpriceable("'SendAsMms' must be true or false");
        }
        if (fields.Has("MediaUrl") || sendAsMms == "true")
        {
            return new Price(new MicroUsd(prices.MmsMicros));
        }
        if (body is null)
        {
            return Spend.Pricing.Price.Unpriceable("a message without 'Body' or 'MediaUrl' cannot be priced before it is sent");
        }
        var (segments, _) = SmsSegments.Count(body);
        return new Price(new MicroUsd(segments * prices.SegmentMicros));
    }

    /// <summary>Twilio states what a message or call cost as <c>"price": "-0.00750", "price_unit": "USD"</c>, once known.</summary>
    public MicroUsd? StatedPrice(byte[] json)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != System.Text.Json.JsonValueKind.Object
                || !root.TryGetProperty("price", out var price) || price.ValueKind != System.Text.Json.JsonValueKind.String
                || !decimal.TryParse(price.GetString(), System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out var amount))
            {
                return null;
            }
            var unit = root.TryGetProperty("price_unit", out var u) && u.ValueKind == System.Text.Json.JsonValueKind.String ? u.GetString()! : "USD";
            // Only a USD price settles exactly; any other unit keeps the estimate (the cap is in USD).
            return string.Equals(unit, "USD", StringComparison.OrdinalIgnoreCase)
                ? new MicroUsd((long)decimal.Round(Math.Abs(amount) * MicroUsd.PerUsd, 0, MidpointRounding.ToPositiveInfinity))
                : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or OverflowException)
        {
            return null;
        }
    }
}

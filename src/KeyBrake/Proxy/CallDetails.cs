using System.Text.Json;
using KeyBrake.Audit;

namespace KeyBrake.Proxy;

/// <summary>
/// The <c>details</c> of a proxied call's entries: what a reviewer needs (amount, currency, masked recipients),
/// never the body itself. Read from the fields pricing parsed (once per call); a body that does not parse simply
/// gives no details here, pricing decides whether the call passes.
/// </summary>
internal static class CallDetails
{
    /// <summary>
    /// Every string the agent chooses is cut to a small size so one proxy entry stays a few KB whatever the request
    /// (SPEC §4: a key holder must not grow the chain by its request body per call). A currency is 3 letters.
    /// </summary>
    public const int MaxCurrencyLength = 16;

    /// <summary><c>priced_from</c> names an object the agent chose the id of (a Stripe charge, a payment intent).</summary>
    public const int MaxPricedFromLength = 256;

    private static readonly string[] RecipientFields = ["to", "cc", "bcc"];

    public static string? FromRequest(HttpRequest request, ProxyCall call)
    {
        var details = new Details();
        var recipients = new List<string>();
        var recipientsCount = 0;
        void AddRecipient(string value)
        {
            // Only the first few are masked and kept; the rest are counted (recipients_count), never copied.
            if (++recipientsCount <= Recipients.MaxListed)
            {
                recipients.Add(Recipients.Mask(value));
            }
        }
        var (fields, _) = call.Body.IsEmpty ? (null, null) : call.ReadFields(request);
        if (fields is null || fields.Unparsed)
        {
            // Nothing to read in the body.
        }
        else if (fields.Json is { } json)
        {
            var items = json.ValueKind == JsonValueKind.Array ? json.EnumerateArray().ToList() : [json]; // Resend's /emails/batch
            foreach (var item in items.Where(i => i.ValueKind == JsonValueKind.Object))
            {
                if (items.Count == 1 && item.TryGetProperty("amount", out var amount) && amount.ValueKind == JsonValueKind.Number && amount.TryGetInt64(out var minor))
                {
                    details.Add("amount_minor", minor);
                }
                if (items.Count == 1 && item.TryGetProperty("currency", out var currency) && currency.ValueKind == JsonValueKind.String)
                {
                    details.Add("currency", Currency(currency.GetString()!));
                }
                foreach (var field in RecipientFields)
                {
                    if (item.TryGetProperty(field, out var value))
                    {
                        if (value.ValueKind == JsonValueKind.Array)
                        {
                            foreach (var recipient in value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String))
                            {
                                AddRecipient(recipient.GetString()!);
                            }
                        }
                        else if (value.ValueKind == JsonValueKind.String)
                        {
                            AddRecipient(value.GetString()!);
                        }
                    }
                }
            }
            if (items.Count > 1)
            {
                details.Add("batch_items", items.Count);
            }
        }
        else
        {
            if (fields.All("amount") is [var amount] && long.TryParse(amount, out var minor))
            {
                details.Add("amount_minor", minor);
            }
            if (fields.All("currency") is [var currency])
            {
                details.Add("currency", Currency(currency));
            }
            // Form fields are matched case-insensitively: Twilio sends "To".
            foreach (var name in fields.Names.Where(n => RecipientFields.Contains(n, StringComparer.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
            {
                foreach (var recipient in fields.All(name).Where(v => v.Length > 0))
                {
                    AddRecipient(recipient);
                }
            }
        }
        if (recipients.Count > 0)
        {
            details.Add("recipients", recipients);
        }
        if (recipientsCount > Recipients.MaxListed)
        {
            details.Add("recipients_count", recipientsCount);
        }
        if (call.Reservation?.Price is { Lookup: { } lookup } price)
        {
            // Priced from an object KeyBrake read upstream (with the vendor secret): say which, and what it found.
            details.Add("priced_from", Cut("GET " + lookup.Path, MaxPricedFromLength));
            if (fields?.Has("amount") != true && price.AmountMinor is { } found)
            {
                details.Add("amount_minor", found);
            }
            if (fields?.Has("currency") != true && price.Currency is { } currency)
            {
                details.Add("currency", Currency(currency));
            }
        }
        return details.IsEmpty ? null : Details.Object(_ => details);
    }

    private static string Currency(string currency) => Cut(currency, MaxCurrencyLength).ToLowerInvariant();

    /// <summary>A value cut to <paramref name="max"/> characters, its end marked so a reader sees it was cut.</summary>
    internal static string Cut(string value, int max)
    {
        if (value.Length <= max)
        {
            return value;
        }
        var keep = char.IsHighSurrogate(value[max - 2]) ? max - 2 : max - 1; // never half a surrogate pair
        return string.Concat(value.AsSpan(0, keep), "…");
    }
}

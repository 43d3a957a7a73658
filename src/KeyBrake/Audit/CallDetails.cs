using System.Text.Json;
using KeyBrake.Proxy;

namespace KeyBrake.Audit;

/// <summary>
/// The <c>details</c> of a proxied call's entries: what a reviewer needs (amount, currency, masked recipients),
/// never the body itself. Read from the fields pricing parsed (once per call); a body that does not parse simply
/// gives no details here, pricing decides whether the call passes.
/// </summary>
internal static class CallDetails
{
    private static readonly string[] RecipientFields = ["to", "cc", "bcc"];

    public static string? FromRequest(HttpRequest request, ProxyCall call)
    {
        var details = new Details();
        var recipients = new List<string>();
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
                    details.Add("currency", currency.GetString()!.ToLowerInvariant());
                }
                foreach (var field in RecipientFields)
                {
                    if (item.TryGetProperty(field, out var value))
                    {
                        recipients.AddRange(value.ValueKind == JsonValueKind.Array
                            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => Recipients.Mask(v.GetString()!))
                            : value.ValueKind == JsonValueKind.String ? [Recipients.Mask(value.GetString()!)] : []);
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
                details.Add("currency", currency.ToLowerInvariant());
            }
            // Form fields are matched case-insensitively: Twilio sends "To".
            foreach (var name in fields.Names.Where(n => RecipientFields.Contains(n, StringComparer.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
            {
                recipients.AddRange(fields.All(name).Where(v => v.Length > 0).Select(Recipients.Mask));
            }
        }
        if (recipients.Count > 0)
        {
            details.Add("recipients", recipients);
        }
        if (call.Reservation?.Price is { Lookup: { } lookup } price)
        {
            // Priced from an object KeyBrake read upstream (with the vendor secret): say which, and what it found.
            details.Add("priced_from", "GET " + lookup.Path);
            if (fields?.Has("amount") != true && price.AmountMinor is { } found)
            {
                details.Add("amount_minor", found);
            }
            if (fields?.Has("currency") != true && price.Currency is { } currency)
            {
                details.Add("currency", currency);
            }
        }
        return details.IsEmpty ? null : Details.Object(_ => details);
    }
}

using System.Text;
using System.Text.Json;
using KeyBrake.Proxy;
using Microsoft.AspNetCore.WebUtilities;

namespace KeyBrake.Audit;

/// <summary>
/// The <c>details</c> of a proxied call's entries: what a reviewer needs (amount, currency, masked recipients),
/// never the body itself. Bodies that do not parse simply give no details here; pricing decides whether they pass.
/// </summary>
internal static class CallDetails
{
    // Form fields are matched case-insensitively (Twilio sends "To"), JSON members exactly (Resend sends "to").
    private static readonly string[] RecipientFields = ["to", "cc", "bcc"];

    public static string? FromRequest(HttpRequest request, ProxyCall call)
    {
        if (call.Body.IsEmpty)
        {
            return null;
        }
        var details = new Details();
        var recipients = new List<string>();
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        try
        {
            if (string.Equals(mediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            {
                var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(call.Body.Span));
                if (form.TryGetValue("amount", out var amount) && long.TryParse(amount.ToString(), out var minor))
                {
                    details.Add("amount_minor", minor);
                }
                if (form.TryGetValue("currency", out var currency))
                {
                    details.Add("currency", currency.ToString().ToLowerInvariant());
                }
                foreach (var field in RecipientFields)
                {
                    if (form.TryGetValue(field, out var values))
                    {
                        recipients.AddRange(values.Where(v => !string.IsNullOrEmpty(v)).Select(v => Recipients.Mask(v!)));
                    }
                }
            }
            else if (string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
            {
                using var document = JsonDocument.Parse(call.Body);
                var items = document.RootElement.ValueKind == JsonValueKind.Array
                    ? document.RootElement.EnumerateArray().ToList() // Resend's /emails/batch
                    : [document.RootElement];
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
                        if (!item.TryGetProperty(field, out var value))
                        {
                            continue;
                        }
                        if (value.ValueKind == JsonValueKind.String)
                        {
                            recipients.Add(Recipients.Mask(value.GetString()!));
                        }
                        else if (value.ValueKind == JsonValueKind.Array)
                        {
                            recipients.AddRange(value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => Recipients.Mask(v.GetString()!)));
                        }
                    }
                }
                if (items.Count > 1)
                {
                    details.Add("batch_items", items.Count);
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }
        if (recipients.Count > 0)
        {
            details.Add("recipients", recipients);
        }
        return details.IsEmpty ? null : Details.Object(_ => details);
    }
}

using System.Text.Json;

namespace KeyBrake.Spend.Pricing;

/// <summary>Resend (SPEC §5): one email per recipient (to + cc + bcc); <c>/emails/batch</c> sums its items (at most 100).</summary>
internal sealed class ResendPricing(ResendPricingOptions prices)
{
    public const int MaxBatch = 100;

    public Price Price(string method, string path, Func<(RequestFields? Fields, string? Error)> read)
    {
        if (method != "POST" || path is not ("/emails" or "/emails/batch"))
        {
            return Pricing.Price.Free;
        }
        var (fields, error) = read();
        if (fields?.Json is not { } json)
        {
            return Pricing.Price.Unpriceable(error ?? "a Resend email must be a JSON body to be priced");
        }
        var items = path == "/emails" ? (json.ValueKind == JsonValueKind.Object ? [json] : null)
            : json.ValueKind == JsonValueKind.Array ? json.EnumerateArray().ToList() : null;
        if (items is null)
        {
            return Pricing.Price.Unpriceable(path == "/emails" ? "the body must be a JSON object" : "the batch body must be a JSON array");
        }
        if (items.Count is 0 or > MaxBatch)
        {
            return Pricing.Price.Unpriceable($"a batch holds 1-{MaxBatch} emails, not {items.Count}");
        }
        long recipients = 0;
        foreach (var item in items)
        {
            var count = item.ValueKind == JsonValueKind.Object ? Recipients(item) : -1;
            if (count <= 0)
            {
                return Pricing.Price.Unpriceable("every email needs at least one recipient in 'to', 'cc' or 'bcc' (strings or arrays of strings)");
            }
            recipients += count;
        }
        return new Price(new MicroUsd(recipients * prices.EmailMicros));
    }

    private static int Recipients(JsonElement email)
    {
        var count = 0;
        foreach (var field in new[] { "to", "cc", "bcc" })
        {
            if (!email.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    count++;
                    break;
                case JsonValueKind.Array when value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String):
                    count += value.GetArrayLength();
                    break;
                default:
                    return -1;
            }
        }
        return count;
    }
}

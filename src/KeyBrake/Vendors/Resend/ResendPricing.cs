using System.Text.Json;
using KeyBrake.Spend;
using KeyBrake.Spend.Pricing;

namespace KeyBrake.Vendors.Resend;

/// <summary>
/// Resend (SPEC §5): one email per recipient (to + cc + bcc), a string holding a comma-separated list counting one
/// per address; <c>/emails/batch</c> sums its items (at most 100). Broadcasts, contacts, audiences, domains and API
/// keys are 422 until an operator lists them in <c>KeyBrake:Pricing:resend:FreeWrites</c>.
/// </summary>
internal sealed class ResendPricing(ResendPricingOptions prices) : IVendorPricing
{
    public const int MaxBatch = 100;

    private enum Rule
    {
        Email,
        Batch,
    }

    private static readonly (string, Rule)[] Priced =
    [
        ("POST /emails", Rule.Email),
        ("POST /emails/batch", Rule.Batch),
    ];

    /// <summary>Rescheduling (only <c>scheduled_at</c> can change) and cancelling a scheduled email.</summary>
    private static readonly string[] Free =
    [
        "PATCH /emails/*",
        "POST /emails/*/cancel",
    ];

    private static readonly string[] RecipientFields = ["to", "cc", "bcc"];

    private readonly WriteTable<Rule> _writes = new(ResendProfile.VendorName, Priced, Free, prices.FreeWrites);

    public string Vendor => ResendProfile.VendorName;

    public Price Price(string method, string path, Func<(RequestFields? Fields, string? Error)> read)
    {
        if (!_writes.TryPriced(method, path, out var rule))
        {
            return _writes.FreeOrUnpriceable(method, path);
        }
        var (fields, error) = read();
        if (fields?.Json is not { } json)
        {
            return Spend.Pricing.Price.Unpriceable(error ?? "a Resend email must be a JSON body to be priced");
        }
        if (fields.Repeated() is { } repeated)
        {
            return Spend.Pricing.Price.Unpriceable(repeated);
        }
        var items = rule == Rule.Email ? (json.ValueKind == JsonValueKind.Object ? [json] : null)
            : json.ValueKind == JsonValueKind.Array ? json.EnumerateArray().ToList() : null;
        if (items is null)
        {
            return Spend.Pricing.Price.Unpriceable(rule == Rule.Email ? "the body must be a JSON object" : "the batch body must be a JSON array");
        }
        if (items.Count is 0 or > MaxBatch)
        {
            return Spend.Pricing.Price.Unpriceable($"a batch holds 1-{MaxBatch} emails, not {items.Count}");
        }
        long recipients = 0;
        foreach (var item in items)
        {
            if (item.ValueKind == JsonValueKind.Object && Ambiguous(item) is { } ambiguous)
            {
                return Spend.Pricing.Price.Unpriceable(ambiguous);
            }
            var count = item.ValueKind == JsonValueKind.Object ? Recipients(item) : -1;
            if (count <= 0)
            {
                return Spend.Pricing.Price.Unpriceable("every email needs at least one recipient in 'to', 'cc' or 'bcc' (strings or arrays of strings), "
                    + "each address separable one way only: comma-separated, one '@' each, no ';' and no quoted name holding a comma");
            }
            recipients += count;
        }
        return new Price(new MicroUsd(recipients * prices.EmailMicros));
    }

    /// <summary>
    /// Why one email (the body, or a batch item) could be read with other recipients than <see cref="Recipients"/>
    /// counts (SPEC §5 "one reading of a body"): a recipient field spelled in another case (<c>Bcc</c>, <c>TO</c>),
    /// which KeyBrake would skip and a case-folding reader would send to, or two members whose names differ only in
    /// case. Exact duplicates at any depth are refused by the parser; RequestFields folds case for the root's members
    /// only, so a batch item is checked here.
    /// </summary>
    private static string? Ambiguous(JsonElement email)
    {
        HashSet<string>? names = null;
        foreach (var member in email.EnumerateObject())
        {
            var name = member.Name;
            foreach (var field in RecipientFields)
            {
                if (!name.Equals(field, StringComparison.Ordinal) && name.Equals(field, StringComparison.OrdinalIgnoreCase))
                {
                    return $"'{RequestFields.Shown(name)}' is spelled in another case than '{field}'; send recipients only as 'to', 'cc' and 'bcc'";
                }
            }
            if (!(names ??= new(StringComparer.OrdinalIgnoreCase)).Add(name))
            {
                return $"'{RequestFields.Shown(name)}' is given more than once in an email (in some spelling), so the vendor might read another value";
            }
        }
        return null;
    }

    /// <summary>Recipients of one email; -1 when a field is not a string or array of strings, or holds an ambiguous list.</summary>
    private static int Recipients(JsonElement email)
    {
        var count = 0;
        foreach (var field in RecipientFields)
        {
            if (!email.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            List<JsonElement>? strings = value.ValueKind switch
            {
                JsonValueKind.String => [value],
                JsonValueKind.Array when value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String) => value.EnumerateArray().ToList(),
                _ => null,
            };
            foreach (var text in strings ?? [])
            {
                var addresses = Addresses(text);
                if (addresses < 0)
                {
                    return -1;
                }
                count += addresses;
            }
            if (strings is null)
            {
                return -1;
            }
        }
        return count;
    }

    /// <summary>
    /// Addresses in one recipient string, split on commas as a naive reader would. Each part must hold exactly one
    /// '@', so a quoted display name holding a comma (<c>"Doe, Jane" &lt;j@x.com&gt;</c>), an unquoted one, a
    /// ';' list or a space-separated list cannot be counted lower than the vendor might send: -1, unpriceable.
    /// </summary>
    private static int Addresses(JsonElement element)
    {
        string text;
        try
        {
            text = element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return -1; // a lone surrogate: not text any reader agrees on
        }
        if (text.Contains(';', StringComparison.Ordinal) || (text.Contains('"', StringComparison.Ordinal) && text.Contains(',', StringComparison.Ordinal)))
        {
            return -1;
        }
        var count = 0;
        foreach (var part in text.Split(','))
        {
            if (part.AsSpan().Count('@') != 1)
            {
                return -1;
            }
            count++;
        }
        return count;
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using KeyBrake.Policy;
using KeyBrake.Spend;

namespace KeyBrake.Keys;

internal sealed record NewKey(
    string Label, string Vendor, EndpointPolicy Endpoints, MicroUsd DailyCap, IReadOnlyList<string> StripeAccounts, TimeSpan ExpiresIn,
    string MetadataJson, string? Justification, string? Ticket);

/// <summary>A validated PATCH; a null member is left as it is (<see cref="StripeAccounts"/> <c>[]</c> clears the list).</summary>
internal sealed record KeyPatch(
    EndpointPolicy? Endpoints, MicroUsd? DailyCap, IReadOnlyList<string>? StripeAccounts, DateTimeOffset? ExpiresAt, string Justification, string? Ticket);

/// <summary>Parses admin request bodies field by field, so that a 400 names every bad field at once.</summary>
internal static partial class KeyRequests
{
    private const int MaxPatterns = 100;
    private const int MaxMetadataEntries = 50;

    /// <summary>More accounts than one agent run acts on; a platform acting on all its accounts wants another tool.</summary>
    internal const int MaxStripeAccounts = 100;

    internal const string StripeVendor = "stripe";

    private static readonly HashSet<string> CreateFields =
        ["label", "vendor", "allowed_endpoints", "daily_usd_cap", "stripe_accounts", "expires_in", "metadata", "justification", "ticket"];

    private static readonly HashSet<string> PatchFields = ["allowed_endpoints", "daily_usd_cap", "stripe_accounts", "expires_at", "justification", "ticket"];

    public static NewKey? ParseCreate(JsonElement body, ICollection<string> vendors, TimeSpan maxTtl, TimeSpan defaultTtl, List<FieldError> errors)
    {
        if (!IsObject(body, CreateFields, errors))
        {
            return null;
        }
        var label = RequiredString(body, "label", errors);
        if (label is not null && !LabelPattern().IsMatch(label))
        {
            errors.Add(new("label", "must be 1-200 characters of [A-Za-z0-9._:/-]"));
        }
        var vendor = RequiredString(body, "vendor", errors);
        if (vendor is not null && !vendors.Contains(vendor))
        {
            errors.Add(new("vendor", $"'{vendor}' is not a configured vendor ({string.Join(", ", vendors)})"));
        }
        var endpoints = ParseEndpoints(body, required: true, errors);
        var cap = ParseCap(body, required: true, errors);
        var stripeAccounts = ParseStripeAccounts(body, vendor, errors) ?? [];

        var expiresIn = defaultTtl;
        if (body.TryGetProperty("expires_in", out var ttl) && ttl.ValueKind != JsonValueKind.Null)
        {
            if (ttl.ValueKind != JsonValueKind.String || !Duration.TryParseShort(ttl.GetString(), out expiresIn) || expiresIn <= TimeSpan.Zero)
            {
                errors.Add(new("expires_in", "must be a positive duration such as 90s, 30m, 4h or 7d"));
            }
            else if (expiresIn > maxTtl)
            {
                errors.Add(new("expires_in", $"must be at most {FormatTtl(maxTtl)} (KeyBrake:Keys:MaxTtl)"));
            }
        }
        var metadata = ParseMetadata(body, errors);
        var justification = OptionalString(body, "justification", 1000, errors);
        var ticket = OptionalString(body, "ticket", 200, errors);
        return errors.Count > 0 ? null
            : new NewKey(label!, vendor!, endpoints!, cap!.Value, stripeAccounts, expiresIn, metadata!, justification, ticket);
    }

    public static KeyPatch? ParsePatch(JsonElement body, VaultKey current, TimeSpan maxTtl, List<FieldError> errors)
    {
        if (!IsObject(body, PatchFields, errors))
        {
            return null;
        }
        var createdAt = current.CreatedAt;
        var endpoints = ParseEndpoints(body, required: false, errors);
        var cap = ParseCap(body, required: false, errors);
        var stripeAccounts = ParseStripeAccounts(body, current.Vendor, errors);
        DateTimeOffset? expiresAt = null;
        if (body.TryGetProperty("expires_at", out var at) && at.ValueKind != JsonValueKind.Null)
        {
            if (at.ValueKind != JsonValueKind.String
                || !ZonedTimestamp().IsMatch(at.GetString()!)
                || !DateTimeOffset.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed))
            {
                errors.Add(new("expires_at", "must be an ISO 8601 timestamp with a zone, e.g. 2026-06-03T18:00:00.000Z"));
            }
            else if (parsed > createdAt + maxTtl)
            {
                errors.Add(new("expires_at", $"must not be later than created_at + MaxTtl ({Storage.Timestamps.ToText(createdAt + maxTtl)})"));
            }
            else
            {
                expiresAt = Storage.Timestamps.Truncate(parsed);
            }
        }
        var justification = OptionalString(body, "justification", 1000, errors);
        if (justification is null && !errors.Any(e => e.Field == "justification"))
        {
            errors.Add(new("justification", "is required to change a key's policy"));
        }
        var ticket = OptionalString(body, "ticket", 200, errors);
        if (endpoints is null && cap is null && stripeAccounts is null && expiresAt is null && errors.Count == 0)
        {
            errors.Add(new("body", "name at least one of allowed_endpoints, daily_usd_cap, stripe_accounts, expires_at"));
        }
        return errors.Count > 0 ? null : new KeyPatch(endpoints, cap, stripeAccounts, expiresAt, justification!, ticket);
    }

    public static string FormatTtl(TimeSpan ttl) =>
        ttl.TotalSeconds % 86400 == 0 ? $"{ttl.TotalDays:0}d"
        : ttl.TotalSeconds % 3600 == 0 ? $"{ttl.TotalHours:0}h"
        : ttl.TotalSeconds % 60 == 0 ? $"{ttl.TotalMinutes:0}m"
        : $"{ttl.TotalSeconds:0}s";

    private static bool IsObject(JsonElement body, HashSet<string> known, List<FieldError> errors)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("body", "must be a JSON object"));
            return false;
        }
        foreach (var property in body.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                errors.Add(new(property.Name, $"is not a known field (known: {string.Join(", ", known)})"));
            }
        }
        return true;
    }

    private static string? RequiredString(JsonElement body, string name, List<FieldError> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            errors.Add(new(name, "is required"));
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new(name, "must be a string"));
            return null;
        }
        return value.GetString();
    }

    private static string? OptionalString(JsonElement body, string name, int maxLength, List<FieldError> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String || value.GetString()!.Length is 0 || value.GetString()!.Length > maxLength)
        {
            errors.Add(new(name, $"must be a string of 1-{maxLength} characters"));
            return null;
        }
        return value.GetString();
    }

    private static EndpointPolicy? ParseEndpoints(JsonElement body, bool required, List<FieldError> errors)
    {
        if (!body.TryGetProperty("allowed_endpoints", out var list) || list.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors.Add(new("allowed_endpoints", "is required: a list of '[METHOD ]PATH' patterns"));
            }
            return null;
        }
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() is 0 or > MaxPatterns)
        {
            errors.Add(new("allowed_endpoints", $"must be a list of 1-{MaxPatterns} '[METHOD ]PATH' patterns"));
            return null;
        }
        var texts = new List<string>();
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var text = item.ValueKind == JsonValueKind.String ? item.GetString() : null;
            if (!EndpointPattern.TryParse(text, out _, out var error))
            {
                errors.Add(new($"allowed_endpoints[{index}]", error ?? "must be a string"));
            }
            else
            {
                texts.Add(text!);
            }
            index++;
        }
        return texts.Count == index ? EndpointPolicy.FromValidated(texts) : null;
    }

    private static MicroUsd? ParseCap(JsonElement body, bool required, List<FieldError> errors)
    {
        if (!body.TryGetProperty("daily_usd_cap", out var cap) || cap.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors.Add(new("daily_usd_cap", "is required: a number of USD >= 0 with at most 6 decimals"));
            }
            return null;
        }
        if (cap.ValueKind != JsonValueKind.Number || !cap.TryGetDecimal(out var usd) || !MicroUsd.TryFromUsd(usd, out var micros))
        {
            errors.Add(new("daily_usd_cap", $"must be a number of USD from 0 to {MicroUsd.MaxCap} with at most 6 decimals"));
            return null;
        }
        return micros;
    }

    /// <summary>
    /// SPEC §3 <c>stripe_accounts</c>: the <c>acct_…</c> ids a Stripe key may name in <c>Stripe-Account</c>. Null when
    /// absent (or JSON null). Any other vendor's key refuses the field: it would look like a permission that governs nothing.
    /// </summary>
    private static List<string>? ParseStripeAccounts(JsonElement body, string? vendor, List<FieldError> errors)
    {
        if (!body.TryGetProperty("stripe_accounts", out var list) || list.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (vendor is not null && vendor != StripeVendor)
        {
            errors.Add(new("stripe_accounts", $"applies to Stripe keys only (this key's vendor is {vendor})"));
            return null;
        }
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() > MaxStripeAccounts)
        {
            errors.Add(new("stripe_accounts", $"must be a list of at most {MaxStripeAccounts} Stripe account ids (acct_…)"));
            return null;
        }
        var accounts = new List<string>();
        var index = 0;
        var ok = true;
        foreach (var item in list.EnumerateArray())
        {
            var text = item.ValueKind == JsonValueKind.String ? item.GetString()! : null;
            if (text is null || !StripeAccountPattern().IsMatch(text))
            {
                errors.Add(new($"stripe_accounts[{index}]", "must be a Stripe account id: acct_ then 1-64 letters or digits"));
                ok = false;
            }
            else if (accounts.IndexOf(text) is var first and >= 0)
            {
                errors.Add(new($"stripe_accounts[{index}]", $"repeats stripe_accounts[{first}]"));
                ok = false;
            }
            accounts.Add(text ?? "");
            index++;
        }
        return ok ? accounts : null;
    }

    private static string? ParseMetadata(JsonElement body, List<FieldError> errors)
    {
        if (!body.TryGetProperty("metadata", out var metadata) || metadata.ValueKind == JsonValueKind.Null)
        {
            return "{}";
        }
        if (metadata.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("metadata", "must be an object of string keys to string, number or boolean values"));
            return null;
        }
        var count = 0;
        var ok = true;
        foreach (var entry in metadata.EnumerateObject())
        {
            count++;
            if (entry.Name.Length is 0 or > 64
                || entry.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                || (entry.Value.ValueKind == JsonValueKind.String && entry.Value.GetString()!.Length > 500))
            {
                errors.Add(new($"metadata.{entry.Name}", "keys are 1-64 characters; values are strings of at most 500 characters, numbers or booleans"));
                ok = false;
            }
        }
        if (count > MaxMetadataEntries)
        {
            errors.Add(new("metadata", $"at most {MaxMetadataEntries} entries"));
            ok = false;
        }
        return ok ? JsonSerializer.Serialize(metadata) : null;
    }

    // A zone is required: a bare local time would be read in the server's zone.
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})\z")]
    private static partial Regex ZonedTimestamp();

    // \z, not $: $ also matches before a final newline, and "run-447\n" is not a label.
    [GeneratedRegex(@"^[A-Za-z0-9._:/-]{1,200}\z")]
    private static partial Regex LabelPattern();

    [GeneratedRegex(@"^acct_[A-Za-z0-9]{1,64}\z")]
    private static partial Regex StripeAccountPattern();
}

using System.Globalization;
using System.Text.Json;

namespace KeyBrake.Cli;

/// <summary>How a key (the admin API's JSON) reads in a terminal.</summary>
internal static class KeyText
{
    public static string Str(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

    public static decimal Usd(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDecimal() : 0m;

    public static string Money(decimal usd) => "$" + usd.ToString("0.00####", CultureInfo.InvariantCulture);

    public static string Spend(JsonElement key) =>
        $"{Money(Usd(key, "spent_today_usd"))} / {Money(Usd(key, "daily_usd_cap"))}"
        + (Usd(key, "reserved_usd") > 0 ? $" (+{Money(Usd(key, "reserved_usd"))} reserved)" : "");

    /// <summary>"in 3h 12m", "2m ago", or the status when the key is revoked.</summary>
    public static string Expiry(JsonElement key, DateTimeOffset now)
    {
        if (!DateTimeOffset.TryParse(Str(key, "expires_at"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return "";
        }
        var left = at - now;
        return left >= TimeSpan.Zero ? "in " + Span(left) : Span(-left) + " ago";
    }

    public static string Span(TimeSpan span) => span.TotalDays >= 1
        ? $"{(int)span.TotalDays}d {span.Hours}h"
        : span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes}m"
        : span.TotalMinutes >= 1 ? $"{span.Minutes}m {span.Seconds}s"
        : $"{Math.Max(0, span.Seconds)}s";

    public static void WriteList(CliContext context, JsonElement keys)
    {
        var table = new Table("ID", "LABEL", "VENDOR", "STATUS", "SPENT TODAY / CAP", "EXPIRES");
        var now = context.Time.GetUtcNow();
        foreach (var key in keys.EnumerateArray())
        {
            table.Add(Str(key, "id"), Str(key, "label"), Str(key, "vendor"), Str(key, "status"), Spend(key), Expiry(key, now));
        }
        if (table.Count == 0)
        {
            context.Out.WriteLine("No keys match.");
            return;
        }
        table.WriteTo(context.Out);
    }

    public static void WriteOne(CliContext context, JsonElement key)
    {
        var now = context.Time.GetUtcNow();
        var fields = new List<(string, string)>
        {
            ("id", Str(key, "id")),
            ("label", Str(key, "label")),
            ("vendor", Str(key, "vendor")),
            ("status", Str(key, "status")),
            ("allowed_endpoints", string.Join(", ", key.GetProperty("allowed_endpoints").EnumerateArray().Select(e => e.GetString()))),
            ("spent today / cap", Spend(key)),
            ("expires_at", $"{Str(key, "expires_at")} ({Expiry(key, now)})"),
            ("created", $"{Str(key, "created_at")} by {Str(key, "created_by")}"),
            ("metadata", key.TryGetProperty("metadata", out var meta) ? meta.GetRawText() : "{}"),
            ("policy_hash", Str(key, "policy_hash")),
        };
        if (Str(key, "revoked_at") is { Length: > 0 } revokedAt)
        {
            fields.Add(("revoked", $"{revokedAt} by {Str(key, "revoked_by")}" + (Str(key, "revoke_reason") is { Length: > 0 } r ? $": {r}" : "")));
        }
        Table.WriteFields(context.Out, fields);
    }
}

using System.Globalization;
using KeyBrake.Audit;

namespace KeyBrake.Cli;

/// <summary>One audit entry as one terminal line; denials in red, in-doubt and vendor rejections in yellow.</summary>
internal static class EntryText
{
    public static string Line(CliContext context, AuditEntry e)
    {
        var what = e.IsProxyEntry
            ? $"{e.Method} {e.Path}"
            : e.Details is { Length: > 0 } ? Shorten(e.Details, 80) : "";
        var cost = e.CostUsdMicros is { } micros ? KeyText.Money(micros / 1_000_000m) : "";
        var line = string.Join("  ",
            e.Seq.ToString(CultureInfo.InvariantCulture).PadLeft(6),
            e.Ts,
            e.Type.PadRight(14),
            (e.Label ?? e.Actor ?? "").PadRight(24),
            what,
            e.Decision ?? "",
            e.HttpStatus?.ToString(CultureInfo.InvariantCulture) ?? "",
            cost,
            e.Reason is { Length: > 0 } reason ? $"reason=\"{Shorten(reason, 60)}\"" : "").TrimEnd();
        return e.Outcome switch
        {
            AuditOutcomes.Denied => context.Paint(line, "31"),
            AuditOutcomes.InDoubt or AuditOutcomes.VendorRejected => context.Paint(line, "33"),
            _ => e.Type == AuditTypes.KeyRevoked ? context.Paint(line, "35") : line,
        };
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}

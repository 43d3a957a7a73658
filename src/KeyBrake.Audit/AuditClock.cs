using System.Globalization;

namespace KeyBrake.Audit;

/// <summary>The one timestamp form of SPEC §7: UTC, <c>YYYY-MM-DDTHH:MM:SS.mmmZ</c>.</summary>
public static class AuditClock
{
    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}

using System.Text.Json;
using KeyBrake.Audit;
using KeyBrake.Storage;

namespace KeyBrake.Policy;

/// <summary>SPEC §3: lowercase hex SHA-256 of the JCS form of <c>{vendor, allowed_endpoints, daily_usd_cap_micros, expires_at}</c>.</summary>
internal static class PolicyHash
{
    public static string Compute(string vendor, IReadOnlyList<string> allowedEndpoints, long dailyCapMicros, DateTimeOffset expiresAt)
    {
        var element = JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["vendor"] = vendor,
            ["allowed_endpoints"] = allowedEndpoints,
            ["daily_usd_cap_micros"] = dailyCapMicros,
            ["expires_at"] = Timestamps.ToText(expiresAt),
        });
        return Jcs.Sha256Hex(element);
    }
}

using System.Text.Json;
using KeyBrake.Audit;
using KeyBrake.Storage;

namespace KeyBrake.Policy;

/// <summary>
/// SPEC §3: lowercase hex SHA-256 of the JCS form of <c>{vendor, allowed_endpoints, daily_usd_cap_micros,
/// max_usd_per_call_micros, approval_above_usd_micros, requests_per_minute, on_anomaly, stripe_accounts, expires_at}</c>.
/// </summary>
/// <remarks>
/// The guardrail members (<c>max_usd_per_call_micros</c>, <c>approval_above_usd_micros</c>, <c>requests_per_minute</c>,
/// <c>on_anomaly</c>) are null until keys carry them (issue 14: "present as null until the guardrails issue gives them
/// values"), so the formula's member list changes once. <c>stripe_accounts</c> is always a list, <c>[]</c> when the
/// key may name no account: "absent = none" (SPEC §3) is one policy, so it has one hash whether the list was left
/// out, sent empty, or cleared by a PATCH, and the member is the key view's <c>stripe_accounts</c> exactly as shown
/// (in the order given, like <c>allowed_endpoints</c>), so anyone can recompute the hash from the view.
/// </remarks>
internal static class PolicyHash
{
    public static string Compute(
        string vendor, IReadOnlyList<string> allowedEndpoints, long dailyCapMicros, IReadOnlyList<string> stripeAccounts, DateTimeOffset expiresAt)
    {
        var element = JsonSerializer.SerializeToElement(new Dictionary<string, object?>
        {
            ["vendor"] = vendor,
            ["allowed_endpoints"] = allowedEndpoints,
            ["daily_usd_cap_micros"] = dailyCapMicros,
            ["max_usd_per_call_micros"] = null,
            ["approval_above_usd_micros"] = null,
            ["requests_per_minute"] = null,
            ["on_anomaly"] = null,
            ["stripe_accounts"] = stripeAccounts,
            ["expires_at"] = Timestamps.ToText(expiresAt),
        });
        return Jcs.Sha256Hex(element);
    }
}

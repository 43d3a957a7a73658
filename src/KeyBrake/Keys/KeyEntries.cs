using System.Text.Json;
using KeyBrake.Audit;
using KeyBrake.Storage;

namespace KeyBrake.Keys;

/// <summary>The <c>key.*</c> entries (SPEC §7): actor, before / after, justification, ticket.</summary>
internal static class KeyEntries
{
    public static AuditEntry KeyCreated(VaultKey key, NewKey spec, string actor, string ts) => ForKey(key, AuditTypes.KeyCreated, actor, ts, Details.Object(d => d
        .Add("after", Policy(key, full: true))
        .Add("before", (Details?)null)
        .Add("justification", spec.Justification)
        .Add("ticket", spec.Ticket)));

    public static AuditEntry KeyUpdated(VaultKey before, VaultKey after, KeyPatch patch, string actor, string ts) => ForKey(after, AuditTypes.KeyUpdated, actor, ts, Details.Object(d => d
        .Add("after", Policy(after, full: false))
        .Add("before", Policy(before, full: false))
        .Add("justification", patch.Justification)
        .Add("ticket", patch.Ticket)));

    public static AuditEntry KeyRevoked(VaultKey key, string actor, string? labelPrefix, string ts) => ForKey(key, AuditTypes.KeyRevoked, actor, ts, Details.Object(d => d
        .Add("after", new Details().Add("status", "revoked"))
        .Add("before", new Details().Add("status", "active"))
        .Add("label_prefix", labelPrefix)
        .Add("reason", key.RevokeReason)));

    /// <summary>SPEC §3: written by the sweep (actor <c>system</c>) within a minute of the key's expiry, once.</summary>
    public static AuditEntry KeyExpired(VaultKey key, string ts) => ForKey(key, AuditTypes.KeyExpired, "system", ts, Details.Object(d => d
        .Add("after", new Details().Add("status", "expired"))
        .Add("before", new Details().Add("status", "active"))
        .Add("expires_at", Timestamps.ToText(key.ExpiresAt))));

    private static AuditEntry ForKey(VaultKey key, string type, string actor, string ts, string details) => new()
    {
        Ts = ts,
        Type = type,
        KeyId = key.Id,
        Label = key.Label,
        Actor = actor,
        Vendor = key.Vendor,
        PolicyHash = key.PolicyHash,
        Details = details,
    };

    private static Details Policy(VaultKey key, bool full)
    {
        var policy = new Details()
            .Add("allowed_endpoints", key.Endpoints.Texts)
            .Add("daily_usd_cap_micros", key.DailyCapMicros)
            .Add("expires_at", Timestamps.ToText(key.ExpiresAt))
            .Add("stripe_accounts", key.StripeAccounts);
        if (full)
        {
            using var metadata = JsonDocument.Parse(key.MetadataJson);
            policy.Add("label", key.Label).Add("metadata", metadata.RootElement.Clone()).Add("vendor", key.Vendor);
        }
        return policy;
    }
}

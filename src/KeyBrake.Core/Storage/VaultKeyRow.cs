using System.Text.Json;
using KeyBrake.Keys;
using KeyBrake.Policy;

namespace KeyBrake.Storage;

/// <summary>
/// A vault key as every engine stores it (table <c>vault_keys</c>, <see cref="Columns"/>): lists as JSON text,
/// instants as the contract's timestamp text, money as integer micro-USD. One mapping, so both engines keep the same
/// values and <c>storage copy</c> moves them unchanged (SPEC §9).
/// </summary>
public sealed class VaultKeyRow
{
    public const string Columns =
        "id, token_hash, label, vendor, allowed_endpoints, daily_cap_micros, stripe_accounts, expires_at, created_at, created_by, metadata, policy_hash, revoked_at, revoked_by, revoke_reason";

    /// <summary>The parameters of <see cref="Columns"/>, in order, for an INSERT.</summary>
    public const string Parameters =
        "@Id, @TokenHash, @Label, @Vendor, @AllowedEndpoints, @DailyCapMicros, @StripeAccounts, @ExpiresAt, @CreatedAt, @CreatedBy, @Metadata, @PolicyHash, @RevokedAt, @RevokedBy, @RevokeReason";

    public string Id { get; set; } = "";
    public string TokenHash { get; set; } = "";
    public string Label { get; set; } = "";
    public string Vendor { get; set; } = "";
    public string AllowedEndpoints { get; set; } = "[]";
    public long DailyCapMicros { get; set; }
    public string StripeAccounts { get; set; } = "[]";
    public string ExpiresAt { get; set; } = "";
    public string CreatedAt { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public string Metadata { get; set; } = "{}";
    public string PolicyHash { get; set; } = "";
    public string? RevokedAt { get; set; }
    public string? RevokedBy { get; set; }
    public string? RevokeReason { get; set; }

    public static VaultKeyRow From(VaultKey key) => new()
    {
        Id = key.Id,
        TokenHash = key.TokenHash,
        Label = key.Label,
        Vendor = key.Vendor,
        AllowedEndpoints = JsonSerializer.Serialize(key.Endpoints.Texts),
        DailyCapMicros = key.DailyCapMicros,
        StripeAccounts = JsonSerializer.Serialize(key.StripeAccounts),
        ExpiresAt = Timestamps.ToText(key.ExpiresAt),
        CreatedAt = Timestamps.ToText(key.CreatedAt),
        CreatedBy = key.CreatedBy,
        Metadata = key.MetadataJson,
        PolicyHash = key.PolicyHash,
        RevokedAt = key.RevokedAt is { } at ? Timestamps.ToText(at) : null,
        RevokedBy = key.RevokedBy,
        RevokeReason = key.RevokeReason,
    };

    public VaultKey ToKey() => new()
    {
        Id = Id,
        TokenHash = TokenHash,
        Label = Label,
        Vendor = Vendor,
        Endpoints = EndpointPolicy.FromValidated(JsonSerializer.Deserialize<string[]>(AllowedEndpoints) ?? []),
        DailyCapMicros = DailyCapMicros,
        StripeAccounts = JsonSerializer.Deserialize<string[]>(StripeAccounts) ?? [],
        ExpiresAt = Timestamps.Parse(ExpiresAt),
        CreatedAt = Timestamps.Parse(CreatedAt),
        CreatedBy = CreatedBy,
        MetadataJson = Metadata,
        PolicyHash = PolicyHash,
        RevokedAt = Timestamps.ParseOrNull(RevokedAt),
        RevokedBy = RevokedBy,
        RevokeReason = RevokeReason,
    };
}

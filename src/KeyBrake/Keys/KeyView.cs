using System.Text.Json;
using System.Text.Json.Serialization;
using KeyBrake.Spend;
using KeyBrake.Storage;

namespace KeyBrake.Keys;

/// <summary>A key as the admin API shows it (SPEC §3). <see cref="Token"/> appears once, in the 201 of its creation.</summary>
internal sealed record KeyView
{
    public required string Id { get; init; }
    public required string Label { get; init; }
    public required string Vendor { get; init; }
    public required IReadOnlyList<string> AllowedEndpoints { get; init; }
    public required decimal DailyUsdCap { get; init; }
    /// <summary>SPEC §3: the accounts the key may name in <c>Stripe-Account</c>; <c>[]</c> = none (every non-Stripe key).</summary>
    public required IReadOnlyList<string> StripeAccounts { get; init; }
    public required string ExpiresAt { get; init; }
    public required string CreatedAt { get; init; }
    public required string CreatedBy { get; init; }
    public required JsonElement Metadata { get; init; }
    public required string PolicyHash { get; init; }
    public required string Status { get; init; }
    public string? RevokedAt { get; init; }
    public string? RevokedBy { get; init; }
    public string? RevokeReason { get; init; }
    /// <summary>Null only in the answer to a change (revocation, PATCH) made while the ledger could not be read.</summary>
    public required decimal? SpentTodayUsd { get; init; }
    public required decimal? ReservedUsd { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Token { get; init; }

    public static KeyView From(VaultKey key, DateTimeOffset now, MicroUsd? spent, MicroUsd? reserved, string? token = null) => new()
    {
        Id = key.Id,
        Label = key.Label,
        Vendor = key.Vendor,
        AllowedEndpoints = key.Endpoints.Texts,
        DailyUsdCap = new MicroUsd(key.DailyCapMicros).ToUsd(),
        StripeAccounts = key.StripeAccounts,
        ExpiresAt = Timestamps.ToText(key.ExpiresAt),
        CreatedAt = Timestamps.ToText(key.CreatedAt),
        CreatedBy = key.CreatedBy,
        Metadata = JsonSerializer.Deserialize<JsonElement>(key.MetadataJson),
        PolicyHash = key.PolicyHash,
        Status = key.StatusAt(now).ToString().ToLowerInvariant(),
        RevokedAt = key.RevokedAt is { } at ? Timestamps.ToText(at) : null,
        RevokedBy = key.RevokedBy,
        RevokeReason = key.RevokeReason,
        SpentTodayUsd = spent?.ToUsd(),
        ReservedUsd = reserved?.ToUsd(),
        Token = token,
    };
}

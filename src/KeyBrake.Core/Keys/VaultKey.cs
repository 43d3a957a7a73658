using KeyBrake.Policy;

namespace KeyBrake.Keys;

public enum KeyStatus
{
    Active,
    Expired,
    Revoked,
}

/// <summary>A vault key as stored: its token exists only as a SHA-256 hash.</summary>
public sealed record VaultKey
{
    public required string Id { get; init; }
    public required string TokenHash { get; init; }
    public required string Label { get; init; }
    public required string Vendor { get; init; }
    public required EndpointPolicy Endpoints { get; init; }
    public required long DailyCapMicros { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string CreatedBy { get; init; }
    /// <summary>A flat JSON object, kept as the operator sent it.</summary>
    public required string MetadataJson { get; init; }
    public required string PolicyHash { get; init; }
    /// <summary>SPEC §3: the <c>acct_…</c> ids a Stripe key may name in <c>Stripe-Account</c>; empty = none.</summary>
    public IReadOnlyList<string> StripeAccounts { get; init; } = [];
    public DateTimeOffset? RevokedAt { get; init; }
    public string? RevokedBy { get; init; }
    public string? RevokeReason { get; init; }

    public KeyStatus StatusAt(DateTimeOffset now) =>
        RevokedAt is not null ? KeyStatus.Revoked : now >= ExpiresAt ? KeyStatus.Expired : KeyStatus.Active;
}

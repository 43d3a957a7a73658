using KeyBrake.Audit;
using KeyBrake.Storage;

namespace KeyBrake.Keys;

/// <summary>SPEC §4 step 3's refusals of a known key, worded once for the policy check and for the audit writer's.</summary>
internal static class KeyErrors
{
    public static KeyBrakeError Revoked(VaultKey key) =>
        new(StatusCodes.Status401Unauthorized, "key_revoked", $"Vault key {key.Id} was revoked.");

    public static KeyBrakeError Expired(VaultKey key) =>
        new(StatusCodes.Status401Unauthorized, "key_expired", $"Vault key {key.Id} expired at {Timestamps.ToText(key.ExpiresAt)}.");

    /// <summary>The writer withdrew the call's <c>proxy.request</c>: its key's <c>key.revoked</c> / <c>key.expired</c> was sealed first (SPEC §7).</summary>
    public static KeyBrakeError Closed(VaultKey key, AppendResult why) => why == AppendResult.KeyExpired ? Expired(key) : Revoked(key);
}

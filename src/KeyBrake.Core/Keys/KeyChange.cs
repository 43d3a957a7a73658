namespace KeyBrake.Keys;

/// <summary>A key's stored state changed (revoked, its policy replaced): caches of it must be dropped.</summary>
public readonly record struct KeyChange(string KeyId, string TokenHash)
{
    /// <summary>
    /// "Drop every cached key": what a shared engine's feed sends when it may have missed a change (its notification
    /// connection was lost, or the cache's bounded age passed), so a missed revocation is never served for long (SPEC §9).
    /// </summary>
    public static KeyChange All => new("", "");

    public bool IsAll => string.IsNullOrEmpty(KeyId);
}

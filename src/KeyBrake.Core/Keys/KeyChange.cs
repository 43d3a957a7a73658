namespace KeyBrake.Keys;

/// <summary>A key's stored state changed (revoked, its policy replaced): caches of it must be dropped.</summary>
public readonly record struct KeyChange(string KeyId, string TokenHash);

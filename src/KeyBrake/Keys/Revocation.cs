namespace KeyBrake.Keys;

internal enum RevocationState
{
    /// <summary>The store has it: 200.</summary>
    Durable,

    /// <summary>Enforced by this process, not yet accepted by the store (retried): 503 <c>revocation_pending</c>.</summary>
    Pending,

    /// <summary>No such key: 404.</summary>
    NotFound,
}

/// <summary>
/// What a revocation came to (SPEC §3). <see cref="Keys"/>: the keys revoked (by id: the one key, unchanged if it was
/// revoked already); when <see cref="RevocationState.Pending"/>, the key as this process enforces it if it could be read.
/// </summary>
internal sealed record Revocation(RevocationState State, IReadOnlyList<VaultKey> Keys)
{
    public static readonly Revocation NotFound = new(RevocationState.NotFound, []);
}

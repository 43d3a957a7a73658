namespace KeyBrake.Keys;

/// <summary>
/// SPEC §3: a revocation takes effect in the process that receives it at once, before the store has it and whatever
/// becomes of the store's write. <see cref="KeyLookup"/> passes every key it returns through <see cref="Apply"/>, cache
/// hit or not. Copy-on-write: revocations are rare and lookups are every request, so a lookup reads one reference and,
/// while nothing is refused, nothing more.
/// </summary>
/// <remarks>
/// A refusal by id is kept until the key could no longer be valid anyway (<c>MaxTtl</c> after the revocation), not
/// only until the store has it: a lookup that read the store just before the write must still be refused when it
/// returns. A refusal by label prefix (the kill switch, for when the store cannot even say which keys match) covers
/// keys created up to the kill switch, and is kept as long too, beside refusals of the ids the store revoked: a key
/// whose creation was under way during the kill switch (its <c>created_at</c> before it, its row written after the
/// store's update) is still refused, and <see cref="KeyService"/> revokes it in the store as soon as it is written.
/// </remarks>
internal sealed class RefusedKeys(TimeProvider time)
{
    private readonly Lock _gate = new();
    private volatile Snapshot _current = Snapshot.Empty;

    /// <summary>The key as this process must treat it: revoked if a revocation of it is pending or recent.</summary>
    public VaultKey Apply(VaultKey key)
    {
        var current = _current;
        if (current.IsEmpty || key.RevokedAt is not null || current.Find(key) is not { } refusal)
        {
            return key;
        }
        return key with { RevokedAt = refusal.At, RevokedBy = refusal.By, RevokeReason = refusal.Reason };
    }

    /// <summary>From now on refuses the key (by id), or every key created by then whose label starts with the prefix.</summary>
    public void Refuse(KeyRevocation revocation, TimeSpan maxTtl)
    {
        lock (_gate)
        {
            var (byId, byPrefix) = Live();
            if (revocation.Id is not null)
            {
                byId.TryAdd(revocation.Id, new(revocation, revocation.At + maxTtl));
            }
            else
            {
                byPrefix.Add(new(revocation, revocation.At + maxTtl));
            }
            _current = new Snapshot(byId, byPrefix);
        }
    }

    /// <summary>The store has the revocation: the ids it revoked are refused by id as well (the prefix refusal stays).</summary>
    public void Settle(KeyRevocation revocation, IReadOnlyList<VaultKey> revoked, TimeSpan maxTtl)
    {
        lock (_gate)
        {
            var (byId, byPrefix) = Live();
            foreach (var key in revoked)
            {
                byId.TryAdd(key.Id, new(revocation, revocation.At + maxTtl));
            }
            _current = new Snapshot(byId, byPrefix);
        }
    }

    /// <summary>A copy of the refusals that still matter (a key revoked more than MaxTtl ago has expired anyway).</summary>
    private (Dictionary<string, Refusal> ById, List<Refusal> ByPrefix) Live()
    {
        var now = time.GetUtcNow();
        var byId = new Dictionary<string, Refusal>(StringComparer.Ordinal);
        foreach (var (id, refusal) in _current.ById)
        {
            if (refusal.Until > now)
            {
                byId[id] = refusal;
            }
        }
        return (byId, [.. _current.ByPrefix.Where(refusal => refusal.Until > now)]);
    }

    private sealed record Refusal(KeyRevocation Revocation, DateTimeOffset Until);

    private sealed class Snapshot(Dictionary<string, Refusal> byId, List<Refusal> byPrefix)
    {
        public static readonly Snapshot Empty = new(new(StringComparer.Ordinal), []);

        public Dictionary<string, Refusal> ById => byId;

        public List<Refusal> ByPrefix => byPrefix;

        public bool IsEmpty { get; } = byId.Count == 0 && byPrefix.Count == 0;

        public KeyRevocation? Find(VaultKey key)
        {
            if (byId.TryGetValue(key.Id, out var refusal))
            {
                return refusal.Revocation;
            }
            foreach (var (prefix, _) in byPrefix)
            {
                if (key.CreatedAt <= prefix.At && key.Label.StartsWith(prefix.LabelPrefix!, StringComparison.Ordinal))
                {
                    return prefix;
                }
            }
            return null;
        }
    }
}

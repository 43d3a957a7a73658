using System.Collections.Concurrent;

namespace KeyBrake.Keys;

/// <summary>
/// Token-hash → key, cached in memory for the proxy's hot path, with exact invalidation: every change to a key
/// (revoke, patch) reaches <see cref="Invalidate"/> through the <see cref="IKeyChangeFeed"/> after the store has
/// committed it. A load that raced with an
/// invalidation is returned to its caller (which started before the change returned) but never cached, so the
/// very next request after a revoke reads the store. Every key returned, cached or loaded, passes through
/// <see cref="RefusedKeys"/> first: a revocation applies here before the store has it (SPEC §3).
/// </summary>
internal sealed class KeyLookup : IDisposable
{
    private const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, VaultKey> _byTokenHash = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _generation;
    private readonly IKeyStore _store;
    private readonly RefusedKeys _refused;
    private readonly IDisposable _subscription;

    public KeyLookup(IKeyStore store, RefusedKeys refused, IKeyChangeFeed changes)
    {
        _store = store;
        _refused = refused;
        _subscription = changes.Subscribe(OnChange);
    }

    public bool TryGetCached(string tokenHash, out VaultKey? key) => _byTokenHash.TryGetValue(tokenHash, out key);

    public async ValueTask<VaultKey?> FindAsync(string tokenHash, CancellationToken cancellationToken)
    {
        if (_byTokenHash.TryGetValue(tokenHash, out var cached))
        {
            return _refused.Apply(cached);
        }
        var generation = Volatile.Read(ref _generation);
        var loaded = await _store.FindByTokenHashAsync(tokenHash, cancellationToken);
        if (loaded is not null)
        {
            lock (_gate)
            {
                if (_generation == generation)
                {
                    if (_byTokenHash.Count >= MaxEntries)
                    {
                        _byTokenHash.Clear();
                    }
                    _byTokenHash[tokenHash] = loaded;
                }
            }
        }
        return loaded is null ? null : _refused.Apply(loaded);
    }

    /// <summary>The key as the store has it now (the cache is refreshed with it).</summary>
    public ValueTask<VaultKey?> ReloadAsync(string tokenHash, CancellationToken cancellationToken)
    {
        Invalidate(tokenHash);
        return FindAsync(tokenHash, cancellationToken);
    }

    public void Invalidate(string tokenHash)
    {
        lock (_gate)
        {
            _generation++;
            _byTokenHash.TryRemove(tokenHash, out _);
        }
    }

    /// <summary>Every cached key, when the feed may have missed a change (<see cref="KeyChange.All"/>, SPEC §9).</summary>
    public void InvalidateAll()
    {
        lock (_gate)
        {
            _generation++;
            _byTokenHash.Clear();
        }
    }

    public void Dispose() => _subscription.Dispose();

    private void OnChange(KeyChange change)
    {
        if (change.IsAll)
        {
            InvalidateAll();
        }
        else
        {
            Invalidate(change.TokenHash);
        }
    }
}

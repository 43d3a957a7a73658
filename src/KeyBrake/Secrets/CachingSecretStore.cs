using System.Collections.Concurrent;

namespace KeyBrake.Secrets;

/// <summary>
/// Keeps each value in memory for <c>KeyBrake:Secrets:CacheTtl</c> (0 = no cache), so a new secret version is
/// picked up once the TTL has passed. Concurrent misses for one name share a single read of the store.
/// </summary>
internal sealed class CachingSecretStore(ISecretStore inner, TimeProvider time, TimeSpan ttl) : ISecretStore
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _inflight = new(StringComparer.Ordinal);

    public ValueTask<string> GetAsync(string name, CancellationToken cancellationToken)
    {
        if (ttl > TimeSpan.Zero && _entries.TryGetValue(name, out var entry) && time.GetUtcNow() < entry.FreshUntil)
        {
            return ValueTask.FromResult(entry.Value);
        }
        return new ValueTask<string>(RefreshAsync(name, cancellationToken));
    }

    private async Task<string> RefreshAsync(string name, CancellationToken cancellationToken)
    {
        var load = _inflight.GetOrAdd(name, n => new Lazy<Task<string>>(() => LoadAsync(n)));
        try
        {
            return await load.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            _inflight.TryRemove(new KeyValuePair<string, Lazy<Task<string>>>(name, load));
        }
    }

    private async Task<string> LoadAsync(string name)
    {
        var fetchedAt = time.GetUtcNow();
        // Not tied to one caller's cancellation: other callers share this read.
        var value = await inner.GetAsync(name, CancellationToken.None);
        if (ttl > TimeSpan.Zero)
        {
            _entries[name] = new Entry(value, fetchedAt + ttl);
        }
        return value;
    }

    private readonly record struct Entry(string Value, DateTimeOffset FreshUntil);
}

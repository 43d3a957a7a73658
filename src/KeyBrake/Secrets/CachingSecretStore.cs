using System.Collections.Concurrent;

namespace KeyBrake.Secrets;

/// <summary>
/// Keeps each value in memory for <c>KeyBrake:Secrets:CacheTtl</c> (0 = no cache), so a new secret version is
/// picked up once the TTL has passed. Concurrent misses for one name share a single read of the store.
/// Stale-while-failing: when a refresh fails, the last value is served for at most <c>KeyBrake:Secrets:MaxStale</c>
/// past its TTL; after that the read fails (503 <c>secret_unavailable</c> for the call).
/// </summary>
internal sealed partial class CachingSecretStore(ISecretStore inner, TimeProvider time, TimeSpan ttl, TimeSpan maxStale, ILogger logger) : ISecretStore
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _inflight = new(StringComparer.Ordinal);

    public CachingSecretStore(ISecretStore inner, TimeProvider time, TimeSpan ttl)
        : this(inner, time, ttl, TimeSpan.Zero, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)
    {
    }

    public ValueTask<string> GetAsync(string name, CancellationToken cancellationToken)
    {
        if (ttl > TimeSpan.Zero && _entries.TryGetValue(name, out var entry) && time.GetUtcNow() < entry.FreshUntil)
        {
            Telemetry.KeyBrakeMetrics.SecretCacheResult("hit");
            return ValueTask.FromResult(entry.Value);
        }
        Telemetry.KeyBrakeMetrics.SecretCacheResult("miss");
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
        string value;
        try
        {
            // Not tied to one caller's cancellation: other callers share this read.
            value = await inner.GetAsync(name, CancellationToken.None);
        }
        catch (SecretUnavailableException e) when (ttl > TimeSpan.Zero && _entries.TryGetValue(name, out var last)
            && time.GetUtcNow() < last.FreshUntil + maxStale)
        {
            Telemetry.KeyBrakeMetrics.SecretCacheResult("stale");
            Log.ServingStale(logger, name, (time.GetUtcNow() - last.FreshUntil).TotalSeconds, maxStale.TotalSeconds, e.Message);
            return last.Value;
        }
        if (ttl > TimeSpan.Zero)
        {
            _entries[name] = new Entry(value, fetchedAt + ttl);
        }
        return value;
    }

    private readonly record struct Entry(string Value, DateTimeOffset FreshUntil);

    private static partial class Log
    {
        [LoggerMessage(EventId = 4304, Level = LogLevel.Warning,
            Message = "Secret '{Name}' could not be refreshed ({Problem}); serving the cached value, {StaleSeconds:0} s past its TTL of at most {MaxStaleSeconds:0} s")]
        public static partial void ServingStale(ILogger logger, string name, double staleSeconds, double maxStaleSeconds, string problem);
    }
}

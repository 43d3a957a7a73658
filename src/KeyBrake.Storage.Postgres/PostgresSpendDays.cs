using System.Collections.Concurrent;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// The key days this replica has opened in <c>spend_days</c> (rows are never deleted by KeyBrake), so a call's
/// reservation opens its key's day once per replica and day, not once per call. Concurrent first calls of one key share
/// one opening; a failed opening is forgotten, so the next call tries again. A claim that finds its row missing after
/// all (removed outside KeyBrake) forgets it too (<see cref="PostgresAuditChainStore.Begin"/>).
/// </summary>
internal sealed class PostgresSpendDays
{
    /// <summary>Keys are short-lived: past this many open days, the set starts again (each reopening is one read and an insert that does nothing).</summary>
    private const int MaxRemembered = 100_000;

    private readonly ConcurrentDictionary<(string KeyId, DateOnly Day), Lazy<Task>> _opened = new();

    /// <summary>Completes once the key's day has a row; <paramref name="open"/> runs once for concurrent callers.</summary>
    public Task OpenAsync(string keyId, DateOnly day, Func<string, DateOnly, Task> open)
    {
        if (_opened.TryGetValue((keyId, day), out var known) && known.Value.IsCompletedSuccessfully)
        {
            return Task.CompletedTask;
        }
        if (_opened.Count >= MaxRemembered)
        {
            _opened.Clear();
        }
        var opening = _opened.GetOrAdd((keyId, day), _ => new Lazy<Task>(() => open(keyId, day)));
        return ForgetIfFailedAsync(keyId, day, opening);
    }

    public void Forget(string keyId, DateOnly day) => _opened.TryRemove((keyId, day), out _);

    private async Task ForgetIfFailedAsync(string keyId, DateOnly day, Lazy<Task> opening)
    {
        try
        {
            await opening.Value;
        }
        catch
        {
            _opened.TryRemove(new KeyValuePair<(string, DateOnly), Lazy<Task>>((keyId, day), opening));
            throw;
        }
    }
}

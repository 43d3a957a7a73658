namespace KeyBrake.Audit;

/// <summary>
/// A key's day rebuilt from the chain, request by request (the day of the <c>proxy.request</c>): its
/// <c>proxy.response</c> counts the settled cost; a later <c>proxy.denied</c> (e.g. the secret was unavailable) means
/// it was released; with neither, the process stopped in between and its reservation counts, in doubt.
/// </summary>
public sealed class DaySpend(DateOnly day)
{
    private readonly string _to = AuditClock.Format(new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
    private readonly Dictionary<string, long> _requests = new(StringComparer.Ordinal);
    private long _spent;

    /// <summary>The first instant of the day, as the chain writes it: a store reads the key's entries from here on.</summary>
    public static string From(DateOnly day) => AuditClock.Format(new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));

    /// <summary>Feeds the key's next <c>proxy.request</c> / <c>proxy.response</c> / <c>proxy.denied</c> in seq order.</summary>
    public void Add(string type, string requestId, long? cost, string ts)
    {
        switch (type)
        {
            case AuditTypes.ProxyRequest when string.CompareOrdinal(ts, _to) < 0:
                _requests[requestId] = cost ?? 0;
                break;
            case AuditTypes.ProxyResponse when _requests.Remove(requestId):
                _spent += cost ?? 0;
                break;
            case AuditTypes.ProxyDenied:
                _requests.Remove(requestId);
                break;
        }
    }

    /// <summary>Settled spend plus requests never answered (in doubt).</summary>
    public long Total => _spent + _requests.Values.Sum();
}

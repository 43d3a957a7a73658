using Dapper;
using KeyBrake.Storage;

namespace KeyBrake.Spend;

/// <summary>
/// Rebuilds a key's day from the audit log, request by request (the day of the <c>proxy.request</c>): its
/// <c>proxy.response</c> counts the settled cost; a later <c>proxy.denied</c> (e.g. the secret was unavailable) means
/// it was released; with neither, the process stopped in between and its reservation counts, in doubt.
/// </summary>
internal sealed class AuditSpendHistory(SqliteDatabase database) : ISpendHistory
{
    public ValueTask<long> SpentOnAsync(string keyId, DateOnly day, CancellationToken cancellationToken) =>
        ValueTask.FromResult(SpentOn(keyId, day));

    private long SpentOn(string keyId, DateOnly day)
    {
        var from = Timestamps.ToText(new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
        using var connection = database.Open();
        var entries = connection.Query<(string Type, string RequestId, long? Cost, string Ts)>(
            """
            SELECT type, request_id, cost_usd_micros, ts FROM audit_entries
            WHERE key_id = @keyId AND type IN ('proxy.request', 'proxy.response', 'proxy.denied') AND request_id IS NOT NULL
              AND seq >= coalesce((SELECT min(seq) FROM audit_entries WHERE key_id = @keyId AND ts >= @from), 9223372036854775807)
            ORDER BY seq
            """,
            new { keyId, from });
        var to = Timestamps.ToText(new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
        var requests = new Dictionary<string, long>(StringComparer.Ordinal);
        long spent = 0;
        foreach (var (type, requestId, cost, ts) in entries)
        {
            switch (type)
            {
                case "proxy.request" when string.CompareOrdinal(ts, to) < 0:
                    requests[requestId] = cost ?? 0;
                    break;
                case "proxy.response" when requests.Remove(requestId):
                    spent += cost ?? 0;
                    break;
                case "proxy.denied":
                    requests.Remove(requestId);
                    break;
            }
        }
        return spent + requests.Values.Sum(); // requests never answered: in doubt
    }
}

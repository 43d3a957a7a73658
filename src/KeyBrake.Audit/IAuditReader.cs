namespace KeyBrake.Audit;

/// <summary>
/// Reads the committed chain, from any thread, each call on its own connection: the API's query pages and live stream,
/// the export cursor, the verifier's feed, and a key's spend for a day (SPEC §5, §7).
/// </summary>
public interface IAuditReader
{
    AuditHead ReadHead();

    /// <summary>The stored hash of entry <paramref name="seq"/>; null when there is none.</summary>
    string? HashAt(long seq);

    /// <summary>The checkpoints stored with the chain (the writer also keeps them in a file outside it).</summary>
    IReadOnlyList<Checkpoint> ReadCheckpoints();

    /// <summary>
    /// Feeds every entry with <paramref name="afterSeq"/> &lt; seq ≤ <paramref name="toSeq"/> to
    /// <paramref name="verifier"/> in seq order, straight from the stored fields, until it reports a break.
    /// </summary>
    void Feed(long afterSeq, long toSeq, AuditVerifier verifier);

    /// <summary>At most <paramref name="limit"/> entries matching <paramref name="filter"/> after its <c>AfterSeq</c>, in seq order.</summary>
    Task<IReadOnlyList<AuditEntry>> QueryAsync(AuditFilter filter, int limit, CancellationToken cancellationToken);

    /// <summary>Every entry matching <paramref name="filter"/>, in seq order, read as it is consumed.</summary>
    IAsyncEnumerable<AuditEntry> ExportAsync(AuditFilter filter, CancellationToken cancellationToken);

    /// <summary>What a key spent on a UTC day according to the chain (<see cref="DaySpend"/>).</summary>
    Task<long> SpentOnAsync(string keyId, DateOnly day, CancellationToken cancellationToken);
}

using System.Data;
using System.Runtime.CompilerServices;
using System.Text;
using Dapper;
using KeyBrake.Audit;
using Npgsql;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// Reads the committed chain, each call on a pooled connection of its own, with the SQLite reader's semantics (SPEC §7).
/// Replicas commit whole batches in seq order under one lock, so what any query sees is always the prefix 1..head.
/// Long reads go in pages by seq: a verify or an export of millions of entries holds one page in memory, and no
/// snapshot or connection stays open while the consumer is slow.
/// Reads are idempotent, so one that fails because its pooled connection was already dead (the server restarted, a
/// failover, an idle session terminated) is retried once on a fresh connection, after the pool's other idle
/// connections, dead with it, are dropped: the first API call after the database returns is answered, not failed.
/// </summary>
internal sealed class PostgresAuditReader(PostgresDatabase database) : IAuditReader
{
    /// <summary>Entries per page of <see cref="Feed"/> and <see cref="ExportAsync"/>.</summary>
    internal const int PageSize = 2_000;

    public AuditHead ReadHead() => Read(PostgresAuditRows.ReadHead);

    public string? HashAt(long seq) => Read(connection => connection.ExecuteScalar<string?>("SELECT hash FROM audit_entries WHERE seq = @seq", new { seq }));

    public IReadOnlyList<Checkpoint> ReadCheckpoints() => Read(connection =>
        connection.Query<(long Seq, string Hash, string Ts, string Signature)>("SELECT seq, hash, ts, signature FROM audit_checkpoints ORDER BY seq")
            .Select(c => new Checkpoint(c.Seq, c.Hash, c.Ts, c.Signature))
            .ToList());

    public void Feed(long afterSeq, long toSeq, AuditVerifier verifier)
    {
        var after = afterSeq;
        while (after < toSeq)
        {
            var page = Read(connection =>
            {
                using var command = new NpgsqlCommand($"SELECT {Fields.Names} FROM audit_entries WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3", connection)
                {
                    Parameters = { new() { Value = after }, new() { Value = toSeq }, new() { Value = PageSize } },
                };
                using var reader = command.ExecuteReader();
                var entries = new List<AuditEntry>(PageSize);
                while (reader.Read())
                {
                    entries.Add(PostgresAuditRows.Read(reader));
                }
                return entries;
            });
            foreach (var entry in page)
            {
                if (!verifier.Add(entry))
                {
                    return;
                }
            }
            if (page.Count < PageSize)
            {
                return;
            }
            after = page[^1].Seq;
        }
    }

    public async Task<IReadOnlyList<AuditEntry>> QueryAsync(AuditFilter filter, int limit, CancellationToken cancellationToken) =>
        await PageAsync(filter, limit, toSeq: null, cancellationToken);

    /// <summary>
    /// The entries committed when the export starts (up to that head, as one SQLite read transaction would see them), in
    /// pages; each page on a connection of its own, so a slow client holds neither a connection nor a snapshot.
    /// </summary>
    public async IAsyncEnumerable<AuditEntry> ExportAsync(AuditFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var toSeq = await ReadAsync(connection => connection.ExecuteScalarAsync<long>(
            new CommandDefinition("SELECT coalesce(max(seq), 0) FROM audit_entries", cancellationToken: cancellationToken)), cancellationToken);
        var after = filter.AfterSeq;
        while (true)
        {
            var page = await PageAsync(filter with { AfterSeq = after }, PageSize, toSeq, cancellationToken);
            foreach (var entry in page)
            {
                yield return entry;
            }
            if (page.Count < PageSize)
            {
                yield break;
            }
            after = page[^1].Seq;
        }
    }

    public async Task<long> SpentOnAsync(string keyId, DateOnly day, CancellationToken cancellationToken)
    {
        var rows = await ReadAsync(connection => connection.QueryAsync<(string Type, string RequestId, long? Cost, string Ts)>(new CommandDefinition(
            """
            SELECT type, request_id, cost_usd_micros, ts FROM audit_entries
            WHERE key_id = @keyId AND type IN ('proxy.request', 'proxy.response', 'proxy.denied') AND request_id IS NOT NULL
              AND seq >= coalesce((SELECT min(seq) FROM audit_entries WHERE key_id = @keyId AND ts >= @from), 9223372036854775807)
            ORDER BY seq
            """,
            new { keyId, from = DaySpend.From(day) }, cancellationToken: cancellationToken)), cancellationToken);
        var spend = new DaySpend(day);
        foreach (var (type, requestId, cost, ts) in rows)
        {
            spend.Add(type, requestId, cost, ts);
        }
        return spend.Total;
    }

    private Task<List<AuditEntry>> PageAsync(AuditFilter filter, int limit, long? toSeq, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = Select(connection, filter, limit, toSeq);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var entries = new List<AuditEntry>();
            while (await reader.ReadAsync(cancellationToken))
            {
                entries.Add(PostgresAuditRows.Read(reader));
            }
            return entries;
        }, cancellationToken);

    private T Read<T>(Func<NpgsqlConnection, T> read)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var connection = database.Open();
            try
            {
                return read(connection);
            }
            catch (NpgsqlException) when (attempt == 0 && connection.State != ConnectionState.Open)
            {
                database.DataSource.Clear();
            }
        }
    }

    private async Task<T> ReadAsync<T>(Func<NpgsqlConnection, Task<T>> read, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            await using var connection = await database.OpenAsync(cancellationToken);
            try
            {
                return await read(connection);
            }
            catch (NpgsqlException) when (attempt == 0 && connection.State != ConnectionState.Open)
            {
                database.DataSource.Clear();
            }
        }
    }

    /// <summary>
    /// One parameterised SELECT of the entries matching <paramref name="filter"/>, in seq order. Text is matched
    /// literally: prefixes through starts_with (a <c>%</c> or <c>_</c> is no wildcard), with a byte-wise lower bound
    /// (<c>~&gt;=~</c>) that the text_pattern_ops index ix_audit_label can use. Timestamps all have the contract's fixed
    /// form, so the database's collation orders them as text, as SQLite does.
    /// </summary>
    private static NpgsqlCommand Select(NpgsqlConnection connection, AuditFilter filter, int limit, long? toSeq)
    {
        var command = new NpgsqlCommand { Connection = connection };
        var sql = new StringBuilder($"SELECT {Fields.Names} FROM audit_entries WHERE seq > @after");
        command.Parameters.AddWithValue("after", filter.AfterSeq);
        void Where(string condition, string name, object? value)
        {
            if (value is not null)
            {
                sql.Append(" AND ").Append(condition);
                command.Parameters.AddWithValue(name, value);
            }
        }
        Where("seq <= @to_seq", "to_seq", toSeq);
        Where("label = @label", "label", filter.Label);
        Where("label ~>=~ @prefix AND starts_with(label, @prefix)", "prefix", filter.LabelPrefix);
        Where("key_id = @key_id", "key_id", filter.KeyId);
        Where("vendor = @vendor", "vendor", filter.Vendor);
        Where("type = @type", "type", filter.Type);
        Where("starts_with(type, @type_prefix)", "type_prefix", filter.TypePrefix);
        Where("outcome = @outcome", "outcome", filter.Outcome);
        Where("http_status = @status", "status", filter.HttpStatus);
        Where("ts >= @from", "from", filter.From);
        Where("ts < @to", "to", filter.To);
        Where("cost_usd_micros >= @min_cost", "min_cost", filter.MinCostMicros);
        Where("cost_usd_micros <= @max_cost", "max_cost", filter.MaxCostMicros);
        sql.Append(" ORDER BY seq LIMIT @limit");
        command.Parameters.AddWithValue("limit", limit);
        command.CommandText = sql.ToString();
        return command;
    }
}

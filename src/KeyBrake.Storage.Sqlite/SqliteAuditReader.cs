using System.Runtime.CompilerServices;
using System.Text;
using Dapper;
using KeyBrake.Audit;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace KeyBrake.Storage.Sqlite;

/// <summary>Reads the committed chain, each call on a pooled connection of its own (plain SQL, parameterised).</summary>
internal sealed class SqliteAuditReader(SqliteDatabase database) : IAuditReader
{
    public AuditHead ReadHead()
    {
        using var connection = database.Open();
        var (seq, hash) = SqliteAuditRows.ReadHead(connection);
        return new AuditHead(seq, hash);
    }

    public string? HashAt(long seq)
    {
        using var connection = database.Open();
        return SqliteAuditRows.HashAt(connection, seq);
    }

    public IReadOnlyList<Checkpoint> ReadCheckpoints()
    {
        using var connection = database.Open();
        return SqliteAuditRows.ReadCheckpoints(connection);
    }

    /// <summary>Straight from SQLite's rows (<see cref="SqliteRowFields"/>): no strings made, which is what makes verify fast.</summary>
    public void Feed(long afterSeq, long toSeq, AuditVerifier verifier)
    {
        using var connection = database.Open();
        var db = connection.Handle!;
        var rc = raw.sqlite3_prepare_v2(db, $"SELECT {Fields.Names} FROM audit_entries WHERE seq > ?1 AND seq <= ?2 ORDER BY seq", out sqlite3_stmt statement);
        SqliteException.ThrowExceptionForRC(rc, db);
        using (statement)
        {
            SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_int64(statement, 1, afterSeq), db);
            SqliteException.ThrowExceptionForRC(raw.sqlite3_bind_int64(statement, 2, toSeq), db);
            while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
            {
                var row = new SqliteRowFields(statement);
                if (!verifier.Add(ref row))
                {
                    return;
                }
            }
            if (rc != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(rc, db);
            }
        }
    }

    public async Task<IReadOnlyList<AuditEntry>> QueryAsync(AuditFilter filter, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var command = Select(connection, filter, limit);
        using var reader = command.ExecuteReader();
        var entries = new List<AuditEntry>();
        while (reader.Read())
        {
            entries.Add(SqliteAuditRows.Read(reader));
        }
        return entries;
    }

    public async IAsyncEnumerable<AuditEntry> ExportAsync(AuditFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        using var command = Select(connection, filter, limit: null);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return SqliteAuditRows.Read(reader);
        }
    }

    public async Task<long> SpentOnAsync(string keyId, DateOnly day, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Type, string RequestId, long? Cost, string Ts)>(new CommandDefinition(
            """
            SELECT type, request_id, cost_usd_micros, ts FROM audit_entries
            WHERE key_id = @keyId AND type IN ('proxy.request', 'proxy.response', 'proxy.denied') AND request_id IS NOT NULL
              AND seq >= coalesce((SELECT min(seq) FROM audit_entries WHERE key_id = @keyId AND ts >= @from), 9223372036854775807)
            ORDER BY seq
            """,
            new { keyId, from = DaySpend.From(day) }, cancellationToken: cancellationToken));
        var spend = new DaySpend(day);
        foreach (var (type, requestId, cost, ts) in rows)
        {
            spend.Add(type, requestId, cost, ts);
        }
        return spend.Total;
    }

    /// <summary>One parameterised SELECT of the entries matching <paramref name="filter"/>, in seq order, at most <paramref name="limit"/> (null: all).</summary>
    private static SqliteCommand Select(SqliteConnection connection, AuditFilter filter, int? limit)
    {
        var command = connection.CreateCommand();
        var sql = new StringBuilder($"SELECT {Fields.Names} FROM audit_entries WHERE seq > $after");
        command.Parameters.AddWithValue("$after", filter.AfterSeq);
        void Where(string condition, string name, object? value)
        {
            if (value is not null)
            {
                sql.Append(" AND ").Append(condition);
                command.Parameters.AddWithValue(name, value);
            }
        }
        Where("label = $label", "$label", filter.Label);
        Where("label >= $prefix AND substr(label, 1, length($prefix)) = $prefix", "$prefix", filter.LabelPrefix);
        Where("key_id = $key_id", "$key_id", filter.KeyId);
        Where("vendor = $vendor", "$vendor", filter.Vendor);
        Where("type = $type", "$type", filter.Type);
        Where("substr(type, 1, length($type_prefix)) = $type_prefix", "$type_prefix", filter.TypePrefix);
        Where("outcome = $outcome", "$outcome", filter.Outcome);
        Where("http_status = $status", "$status", filter.HttpStatus);
        Where("ts >= $from", "$from", filter.From);
        Where("ts < $to", "$to", filter.To);
        Where("cost_usd_micros >= $min_cost", "$min_cost", filter.MinCostMicros);
        Where("cost_usd_micros <= $max_cost", "$max_cost", filter.MaxCostMicros);
        sql.Append(" ORDER BY seq");
        if (limit is { } n)
        {
            sql.Append(" LIMIT $limit");
            command.Parameters.AddWithValue("$limit", n);
        }
        command.CommandText = sql.ToString();
        return command;
    }
}

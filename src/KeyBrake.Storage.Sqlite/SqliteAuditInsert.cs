using Microsoft.Data.Sqlite;
using KeyBrake.Audit;
using SQLitePCL;

namespace KeyBrake.Storage.Sqlite;

/// <summary>
/// The writer's INSERT, prepared once per connection and rebound per entry. Bound through SQLitePCL directly: a
/// SqliteCommand allocates a parameter binder per parameter per execution and boxes every integer (21 per entry,
/// two entries per proxied call; measured by bench/run.sh), which is most of what the audit log allocates.
/// </summary>
internal sealed class SqliteAuditInsert : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _statement;

    public SqliteAuditInsert(SqliteConnection connection)
    {
        _connection = connection;
        var names = Fields.Names.Split(", ");
        var sql = $"INSERT INTO audit_entries ({Fields.Names}) VALUES ({string.Join(", ", names.Select(n => "$" + n))})";
        var rc = raw.sqlite3_prepare_v2(connection.Handle, sql, out _statement);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
    }

    /// <summary>Inserts <paramref name="e"/> inside <paramref name="transaction"/> (the writer's, on the same connection).</summary>
    public void Execute(SqliteTransaction transaction, AuditEntry e)
    {
        if (transaction.Connection != _connection)
        {
            throw new InvalidOperationException("The insert runs in a transaction of its own connection.");
        }
        var s = _statement;
        raw.sqlite3_reset(s);
        raw.sqlite3_bind_int64(s, 1, e.Seq);
        Text(s, 2, e.Ts);
        Text(s, 3, e.Type);
        Text(s, 4, e.RequestId);
        Text(s, 5, e.KeyId);
        Text(s, 6, e.Label);
        Integer(s, 7, e.RunSeq);
        Text(s, 8, e.Actor);
        Text(s, 9, e.Vendor);
        Text(s, 10, e.Method);
        Text(s, 11, e.Path);
        Integer(s, 12, e.CostUsdMicros);
        Text(s, 13, e.Decision);
        Text(s, 14, e.Outcome);
        Integer(s, 15, e.HttpStatus);
        Text(s, 16, e.VendorRequestId);
        Text(s, 17, e.Reason);
        Text(s, 18, e.PolicyHash);
        Text(s, 19, e.Details);
        Text(s, 20, e.PrevHash);
        Text(s, 21, e.Hash);
        // Waits (busy_timeout) while another connection holds the write lock; an error is a SqliteException, as before.
        var rc = raw.sqlite3_step(s);
        raw.sqlite3_reset(s);
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        }
    }

    private static void Text(sqlite3_stmt statement, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(statement, index);
        }
        else
        {
            raw.sqlite3_bind_text(statement, index, value);
        }
    }

    private static void Integer(sqlite3_stmt statement, int index, long? value)
    {
        if (value is { } number)
        {
            raw.sqlite3_bind_int64(statement, index, number);
        }
        else
        {
            raw.sqlite3_bind_null(statement, index);
        }
    }

    public void Dispose() => _statement.Dispose();
}

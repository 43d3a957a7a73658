using KeyBrake.Audit;
using Microsoft.Data.Sqlite;

namespace KeyBrake.Storage.Sqlite;

/// <summary>Reads and writes the audit tables of a SQLite database (plain SQL, parameterised, prepared once).</summary>
internal static class SqliteAuditRows
{
    /// <summary>The entry columns in <see cref="Read"/>'s ordinal order.</summary>
    public const string Columns = Fields.Names;

    public static void EnsureSchema(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = SqliteAuditSchema.V1;
        command.ExecuteNonQuery();
    }

    public static AuditEntry Read(SqliteDataReader r) => new()
    {
        Seq = r.GetInt64(0),
        Ts = r.GetString(1),
        Type = r.GetString(2),
        RequestId = Text(r, 3),
        KeyId = Text(r, 4),
        Label = Text(r, 5),
        RunSeq = Integer(r, 6),
        Actor = Text(r, 7),
        Vendor = Text(r, 8),
        Method = Text(r, 9),
        Path = Text(r, 10),
        CostUsdMicros = Integer(r, 11),
        Decision = Text(r, 12),
        Outcome = Text(r, 13),
        HttpStatus = r.IsDBNull(14) ? null : r.GetInt32(14),
        VendorRequestId = Text(r, 15),
        Reason = Text(r, 16),
        PolicyHash = Text(r, 17),
        Details = Text(r, 18),
        PrevHash = r.GetString(19),
        Hash = r.GetString(20),
    };

    public static (long Seq, string Hash) ReadHead(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1";
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetString(1)) : (0, AuditHash.Genesis);
    }

    /// <summary>Streams every entry after <paramref name="afterSeq"/> in seq order.</summary>
    public static IEnumerable<AuditEntry> ReadAfter(SqliteConnection connection, long afterSeq)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM audit_entries WHERE seq > $after ORDER BY seq";
        command.Parameters.AddWithValue("$after", afterSeq);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return Read(reader);
        }
    }

    public static string? HashAt(SqliteConnection connection, long seq)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT hash FROM audit_entries WHERE seq = $seq";
        command.Parameters.AddWithValue("$seq", seq);
        return command.ExecuteScalar() as string;
    }

    public static List<Checkpoint> ReadCheckpoints(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, hash, ts, signature FROM audit_checkpoints ORDER BY seq";
        using var reader = command.ExecuteReader();
        var checkpoints = new List<Checkpoint>();
        while (reader.Read())
        {
            checkpoints.Add(new Checkpoint(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        }
        return checkpoints;
    }

    public static void InsertCheckpoint(SqliteConnection connection, Checkpoint checkpoint)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT OR IGNORE INTO audit_checkpoints (seq, hash, ts, signature) VALUES ($seq, $hash, $ts, $signature)";
        command.Parameters.AddWithValue("$seq", checkpoint.Seq);
        command.Parameters.AddWithValue("$hash", checkpoint.Hash);
        command.Parameters.AddWithValue("$ts", checkpoint.Ts);
        command.Parameters.AddWithValue("$signature", checkpoint.Signature);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// A key's last <c>run_seq</c> and the type of its first <c>key.revoked</c> / <c>key.expired</c> entry (null when
    /// it has none), in one pass over the key's entries (index <c>ix_audit_key_id</c>).
    /// </summary>
    public static (long LastRunSeq, string? ClosedBy) KeyState(SqliteConnection connection, SqliteTransaction transaction, string keyId)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            SELECT coalesce(max(run_seq), 0),
                   (SELECT type FROM audit_entries WHERE key_id = $key AND type IN ('{AuditTypes.KeyRevoked}', '{AuditTypes.KeyExpired}') ORDER BY seq LIMIT 1)
            FROM audit_entries WHERE key_id = $key
            """;
        command.Parameters.AddWithValue("$key", keyId);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    private static string? Text(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static long? Integer(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
}

using KeyBrake.Audit;
using Npgsql;
using NpgsqlTypes;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// The audit tables' SQL shared by the writer's connection and the readers'. Fields are stored exactly as hashed
/// (text, details as text), so a row reads back into the entry that was sealed.
/// </summary>
internal static class PostgresAuditRows
{
    /// <summary>The channel every replica's commit notifies (payload: the new head seq), delivered at commit.</summary>
    public const string Channel = "keybrake_audit";

    public const string HeadSql = "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1";

    /// <summary>The binary COPY every entry is written with (<see cref="Write"/> writes one row of it).</summary>
    public static readonly string CopySql = $"COPY audit_entries ({Fields.Names}) FROM STDIN (FORMAT BINARY)";

    /// <summary>
    /// A small batch in one statement, the arrays in <see cref="Fields"/> order: unlike COPY (a round trip to start it,
    /// one to end it), it travels with the batch's NOTIFY and COMMIT in a single round trip (<see cref="Arrays"/>).
    /// </summary>
    public const string InsertSql = $"""
        INSERT INTO audit_entries ({Fields.Names})
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[],
            $9::text[], $10::text[], $11::text[], $12::bigint[], $13::text[], $14::text[], $15::integer[], $16::text[], $17::text[],
            $18::text[], $19::text[], $20::text[], $21::text[])
        """;

    /// <summary>The parameters of <see cref="InsertSql"/> for <paramref name="entries"/>.</summary>
    public static void Arrays(NpgsqlParameterCollection parameters, IReadOnlyList<AuditEntry> entries)
    {
        parameters.Add(Array(entries, e => e.Seq, NpgsqlDbType.Bigint));
        parameters.Add(Array(entries, e => e.Ts, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.Type, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.RequestId, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.KeyId, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.Label, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.RunSeq, NpgsqlDbType.Bigint));
        parameters.Add(Array(entries, e => e.Actor, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.Vendor, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.Method, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.Path, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.CostUsdMicros, NpgsqlDbType.Bigint));
        parameters.Add(Array(entries, e => e.Decision, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.Outcome, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.HttpStatus, NpgsqlDbType.Integer));
        parameters.Add(Array(entries, e => e.VendorRequestId, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.Reason, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.PolicyHash, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.Details, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.PrevHash, NpgsqlDbType.Text));
        parameters.Add(Array(entries, e => e.Hash, NpgsqlDbType.Text));
    }

    private static NpgsqlParameter<T[]> Array<T>(IReadOnlyList<AuditEntry> entries, Func<AuditEntry, T> field, NpgsqlDbType type)
    {
        var values = new T[entries.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = field(entries[i]);
        }
        return new NpgsqlParameter<T[]> { TypedValue = values, NpgsqlDbType = NpgsqlDbType.Array | type };
    }

    /// <summary>One row of <see cref="CopySql"/>: every field exactly as sealed (column order = field numbers).</summary>
    public static void Write(NpgsqlBinaryImporter copy, AuditEntry e)
    {
        copy.StartRow();
        copy.Write(e.Seq, NpgsqlDbType.Bigint);
        copy.Write(e.Ts, NpgsqlDbType.Text);
        copy.Write(e.Type, NpgsqlDbType.Text);
        Text(copy, e.RequestId);
        Text(copy, e.KeyId);
        Text(copy, e.Label);
        Integer(copy, e.RunSeq);
        Text(copy, e.Actor);
        Text(copy, e.Vendor);
        Text(copy, e.Method);
        Text(copy, e.Path);
        Integer(copy, e.CostUsdMicros);
        Text(copy, e.Decision);
        Text(copy, e.Outcome);
        if (e.HttpStatus is { } status)
        {
            copy.Write(status, NpgsqlDbType.Integer);
        }
        else
        {
            copy.WriteNull();
        }
        Text(copy, e.VendorRequestId);
        Text(copy, e.Reason);
        Text(copy, e.PolicyHash);
        Text(copy, e.Details);
        copy.Write(e.PrevHash, NpgsqlDbType.Text);
        copy.Write(e.Hash, NpgsqlDbType.Text);
    }

    /// <summary>An entry from a row of <c>SELECT {Fields.Names}</c> (column order = field numbers).</summary>
    public static AuditEntry Read(NpgsqlDataReader r) => new()
    {
        Seq = r.GetInt64(Fields.Seq),
        Ts = r.GetString(Fields.Ts),
        Type = r.GetString(Fields.Type),
        RequestId = Text(r, Fields.RequestId),
        KeyId = Text(r, Fields.KeyId),
        Label = Text(r, Fields.Label),
        RunSeq = Integer(r, Fields.RunSeq),
        Actor = Text(r, Fields.Actor),
        Vendor = Text(r, Fields.Vendor),
        Method = Text(r, Fields.Method),
        Path = Text(r, Fields.Path),
        CostUsdMicros = Integer(r, Fields.CostUsdMicros),
        Decision = Text(r, Fields.Decision),
        Outcome = Text(r, Fields.Outcome),
        HttpStatus = r.IsDBNull(Fields.HttpStatus) ? null : r.GetInt32(Fields.HttpStatus),
        VendorRequestId = Text(r, Fields.VendorRequestId),
        Reason = Text(r, Fields.Reason),
        PolicyHash = Text(r, Fields.PolicyHash),
        Details = Text(r, Fields.Details),
        PrevHash = r.GetString(Fields.PrevHash),
        Hash = r.GetString(Fields.Hash),
    };

    /// <summary>The last committed entry (an index backward scan of the primary key); seq 0 and genesis when empty.</summary>
    public static AuditHead ReadHead(NpgsqlDataReader reader) =>
        reader.Read() ? new AuditHead(reader.GetInt64(0), reader.GetString(1)) : AuditHead.Empty;

    public static AuditHead ReadHead(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand(HeadSql, connection);
        using var reader = command.ExecuteReader();
        return ReadHead(reader);
    }

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static void Text(NpgsqlBinaryImporter copy, string? value)
    {
        if (value is null)
        {
            copy.WriteNull();
        }
        else
        {
            copy.Write(value, NpgsqlDbType.Text);
        }
    }

    private static void Integer(NpgsqlBinaryImporter copy, long? value)
    {
        if (value is { } number)
        {
            copy.Write(number, NpgsqlDbType.Bigint);
        }
        else
        {
            copy.WriteNull();
        }
    }

    private static long? Integer(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
}

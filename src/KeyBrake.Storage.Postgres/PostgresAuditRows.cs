using KeyBrake.Audit;
using Npgsql;

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

    private static long? Integer(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
}

using Microsoft.Data.Sqlite;

namespace KeyBrake.Audit;

/// <summary>The writer's INSERT, prepared once per connection and rebound per entry.</summary>
internal sealed class AuditInsertCommand : IDisposable
{
    private readonly SqliteCommand _command;
    private readonly SqliteParameter[] _p;

    public AuditInsertCommand(SqliteConnection connection)
    {
        _command = connection.CreateCommand();
        var names = SqliteAuditStore.Columns.Split(", ");
        _command.CommandText = $"INSERT INTO audit_entries ({SqliteAuditStore.Columns}) VALUES ({string.Join(", ", names.Select(n => "$" + n))})";
        _p = names.Select(n => _command.Parameters.Add("$" + n,
            n is "seq" or "run_seq" or "cost_usd_micros" or "http_status" ? SqliteType.Integer : SqliteType.Text)).ToArray();
    }

    public void Execute(SqliteTransaction transaction, AuditEntry e)
    {
        _command.Transaction = transaction;
        _p[0].Value = e.Seq;
        _p[1].Value = e.Ts;
        _p[2].Value = e.Type;
        _p[3].Value = (object?)e.RequestId ?? DBNull.Value;
        _p[4].Value = (object?)e.KeyId ?? DBNull.Value;
        _p[5].Value = (object?)e.Label ?? DBNull.Value;
        _p[6].Value = (object?)e.RunSeq ?? DBNull.Value;
        _p[7].Value = (object?)e.Actor ?? DBNull.Value;
        _p[8].Value = (object?)e.Vendor ?? DBNull.Value;
        _p[9].Value = (object?)e.Method ?? DBNull.Value;
        _p[10].Value = (object?)e.Path ?? DBNull.Value;
        _p[11].Value = (object?)e.CostUsdMicros ?? DBNull.Value;
        _p[12].Value = (object?)e.Decision ?? DBNull.Value;
        _p[13].Value = (object?)e.Outcome ?? DBNull.Value;
        _p[14].Value = (object?)e.HttpStatus ?? DBNull.Value;
        _p[15].Value = (object?)e.VendorRequestId ?? DBNull.Value;
        _p[16].Value = (object?)e.Reason ?? DBNull.Value;
        _p[17].Value = (object?)e.PolicyHash ?? DBNull.Value;
        _p[18].Value = (object?)e.Details ?? DBNull.Value;
        _p[19].Value = e.PrevHash;
        _p[20].Value = e.Hash;
        _command.ExecuteNonQuery();
    }

    public void Dispose() => _command.Dispose();
}

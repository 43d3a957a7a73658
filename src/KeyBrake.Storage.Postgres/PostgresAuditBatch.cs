using KeyBrake.Audit;
using Npgsql;
using NpgsqlTypes;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// One batch of the chain's writer: a transaction holding the chain lock (<see cref="PostgresAuditChainStore.Begin"/>).
/// Any <see cref="NpgsqlException"/> drops the writer's connection, so the retried batch starts on a fresh one.
/// </summary>
internal sealed class PostgresAuditBatch(PostgresAuditChainStore store, NpgsqlConnection connection, NpgsqlTransaction transaction, AuditHead head) : IAuditBatch
{
    /// <summary>
    /// The last run_seq by a backward scan of the key's entries (ix_audit_key_id, stops at the first proxy entry: never
    /// max() over a long-lived key's whole history), and the first closing entry through the partial ix_audit_key_closed.
    /// </summary>
    private const string KeyStateSql = $"""
        SELECT coalesce((SELECT run_seq FROM audit_entries WHERE key_id = $1 AND run_seq IS NOT NULL ORDER BY seq DESC LIMIT 1), 0),
               (SELECT type FROM audit_entries WHERE key_id = $1 AND type IN ('{AuditTypes.KeyRevoked}', '{AuditTypes.KeyExpired}') ORDER BY seq LIMIT 1)
        """;

    /// <summary>Larger batches go by COPY (<see cref="Insert"/>).</summary>
    private const int MaxStatementBatch = 256;

    private IReadOnlyList<AuditEntry> _inserted = [];
    private IReadOnlyList<SpendClaim>? _settlements;
    private IReadOnlyList<AuditEntry>? _unsent;
    private long _lastSeq = head.Seq;
    private bool _done;

    public AuditHead Head => head;

    /// <summary>From the store's key states (current to this batch's head, see <see cref="PostgresKeyStates"/>), else read.</summary>
    public AuditKeyState KeyState(string keyId) => store.Keys.TryGet(keyId, out var known) ? known : Guard(() =>
    {
        using var command = new NpgsqlCommand(KeyStateSql, connection, transaction) { Parameters = { new() { Value = keyId } } };
        using var reader = command.ExecuteReader();
        reader.Read();
        var state = new AuditKeyState(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
        store.Keys.Remember(keyId, state);
        return state;
    });

    /// <summary>
    /// A batch of up to <see cref="MaxStatementBatch"/> entries is sent with the commit, in one round trip
    /// (<see cref="Commit"/>). A larger one goes by binary COPY: one stream for the whole batch, values sent as
    /// PostgreSQL's own binary forms, no SQL text to parse per entry (measured against one INSERT … SELECT FROM
    /// unnest(arrays): see bench/audit --postgres); it costs two round trips of its own.
    /// </summary>
    public void Insert(IReadOnlyList<AuditEntry> entries) => Guard(() =>
    {
        if (entries.Count == 0)
        {
            return 0;
        }
        if (entries.Count > MaxStatementBatch)
        {
            using var copy = connection.BeginBinaryImport(PostgresAuditRows.CopySql);
            foreach (var e in entries)
            {
                PostgresAuditRows.Write(copy, e);
            }
            copy.Complete();
        }
        else
        {
            _unsent = _unsent is null ? entries : [.. _unsent, .. entries]; // a batch may be inserted in parts
        }
        _inserted = _inserted.Count == 0 ? entries : [.. _inserted, .. entries];
        _lastSeq = entries[^1].Seq;
        return 0;
    });

    /// <summary>Sent with the commit (<see cref="Commit"/>): their rows are already locked by this transaction.</summary>
    public void Settle(IReadOnlyList<SpendClaim> settlements) =>
        _settlements = _settlements is null ? settlements : [.. _settlements, .. settlements];

    /// <summary>
    /// In one round trip: settlements (reservations given back), the entries not sent yet, the notification to the other replicas' live streams (SPEC §7:
    /// within 1 s), and COMMIT. NOTIFY is transactional: it is delivered when, and only if, the commit succeeds, after
    /// the entries are visible.
    /// </summary>
    public void Commit() => Guard(() =>
    {
        using (var batch = new NpgsqlBatch(connection, transaction))
        {
            if (_settlements is { Count: > 0 } settlements)
            {
                batch.BatchCommands.Add(PostgresSpendRows.Decide(settlements)); // rows this transaction already holds: never busy
            }
            if (_unsent is { } entries)
            {
                var insert = new NpgsqlBatchCommand(PostgresAuditRows.InsertSql);
                PostgresAuditRows.Arrays(insert.Parameters, entries);
                batch.BatchCommands.Add(insert);
            }
            if (_lastSeq != head.Seq)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_notify($1, $2)")
                {
                    Parameters = { new() { Value = PostgresAuditRows.Channel }, new() { Value = _lastSeq.ToString(System.Globalization.CultureInfo.InvariantCulture) } },
                });
            }
            batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            batch.ExecuteNonQuery();
        }
        _done = true;
        transaction.Dispose(); // committed by the batch's COMMIT: nothing left to roll back
        foreach (var e in _inserted)
        {
            if (e.KeyId is { } keyId)
            {
                store.Keys.Apply(keyId, e.RunSeq, e.Type);
            }
        }
        store.Keys.CaughtUpTo(_lastSeq);
        return 0;
    });

    /// <summary>Rolls back unless committed (which releases the chain lock); a dead connection has nothing to roll back.</summary>
    public void Dispose()
    {
        if (_done)
        {
            return;
        }
        _done = true;
        try
        {
            transaction.Dispose();
        }
        catch (NpgsqlException)
        {
            store.Broken();
        }
    }

    private T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (NpgsqlException)
        {
            _done = true;
            store.Broken(); // closing the session releases the lock and aborts the transaction on the server
            throw;
        }
    }
}

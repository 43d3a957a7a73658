using System.Data.Common;
using KeyBrake.Audit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace KeyBrake.Storage.Sqlite;

/// <summary>
/// The chain on SQLite: the writer's own connection (WAL, no automatic checkpoints), the insert bound through SQLitePCL
/// (<see cref="SqliteAuditInsert"/>), and a thread of its own that copies the WAL back into the database.
/// One process writes the chain, so the head is kept here rather than read in every batch.
/// </summary>
internal sealed partial class SqliteAuditChainStore(SqliteDatabase database, ILogger<SqliteAuditChainStore> logger) : IAuditChainStore
{
    private static readonly TimeSpan WalCheckpointEvery = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The WAL is copied back once it passes this size, checked every <see cref="WalCheckpointEvery"/>. Each copy ends in
    /// an fsync, and the writer finishes each copy itself (see <see cref="BetweenBatches"/>), so small and frequent is
    /// what keeps p99 flat as the database grows: bench/run.sh, G at one connection over five growing rounds, p99 9–43 ms
    /// with 8 MB every second, 4.5–8 ms with 4 MB every 250 ms, 3.6–4.6 ms with 2 MB every 100 ms (WAL peak 14 MB).
    /// </summary>
    internal const long WalCheckpointBytes = 2L * 1024 * 1024;

    private readonly string _walPath = database.FilePath + "-wal";
    private readonly ManualResetEventSlim _walStop = new();
    private SqliteConnection? _connection;
    private SqliteAuditInsert? _insert;
    private Thread? _walThread;
    private int _walCheckpointing;
    private volatile bool _walCaughtUp;
    private AuditHead _head;
    private bool _disposed;

    public AuditHead Open()
    {
        _connection = new SqliteConnection(database.ConnectionString);
        _connection.Open();
        using (var pragma = _connection.CreateCommand())
        {
            // WAL checkpoints run on a timer from their own connection, never inside a commit the proxy waits for.
            pragma.CommandText = $"PRAGMA journal_mode=WAL; PRAGMA synchronous={(database.Options.Synchronous == "FULL" ? "FULL" : "NORMAL")}; PRAGMA wal_autocheckpoint=0; PRAGMA busy_timeout=10000;";
            pragma.ExecuteNonQuery();
        }
        SqliteAuditRows.EnsureSchema(_connection);
        _insert = new SqliteAuditInsert(_connection);
        var (seq, hash) = SqliteAuditRows.ReadHead(_connection);
        _head = new AuditHead(seq, hash);
        _walThread = new Thread(() =>
        {
            while (!_walStop.Wait(WalCheckpointEvery))
            {
                CheckpointWal();
            }
        })
        { IsBackground = true, Name = "keybrake-audit-wal" };
        _walThread.Start();
        return _head;
    }

    /// <summary>BEGIN IMMEDIATE: the write lock first. Spend is kept in memory (SpendLedger), never given here.</summary>
    public IAuditBatch Begin(IReadOnlyList<SpendClaim>? spend = null) => spend is { Count: > 0 }
        ? throw new NotSupportedException("The SQLite chain keeps no spend: the ledger is in memory.")
        : new Batch(this, _connection!.BeginTransaction());

    public bool KeepsSpend => false;

    public void InsertCheckpoint(Checkpoint checkpoint) => SqliteAuditRows.InsertCheckpoint(_connection!, checkpoint);

    /// <summary>
    /// On the writer's thread, between batches, after the WAL thread has copied most frames back: copies the few the
    /// writer appended meanwhile. A PASSIVE checkpoint alone never catches a writer that keeps appending, and SQLite
    /// starts the WAL over only once every frame is back in the database: without this step the WAL grew without
    /// bound under steady load (2.3 GB after 30 s in bench/run.sh). The file is then reused from its start at its
    /// high-water mark (≈ 100 MB in bench/run.sh), not truncated: truncating it (journal_size_limit) made every write
    /// extend the file again, and p99 at one connection went from ≈ 10 ms to ≈ 40 ms.
    /// </summary>
    public void BetweenBatches()
    {
        if (!_walCaughtUp)
        {
            return;
        }
        _walCaughtUp = false;
        PassiveCheckpoint(_connection!);
    }

    /// <summary>Copies committed WAL frames into the database file (PASSIVE: never takes the writer's lock).</summary>
    private void CheckpointWal()
    {
        var wal = new FileInfo(_walPath);
        if (!wal.Exists || wal.Length < WalCheckpointBytes || Interlocked.Exchange(ref _walCheckpointing, 1) == 1)
        {
            return;
        }
        try
        {
            using var connection = new SqliteConnection(database.ConnectionString);
            connection.Open();
            _walCaughtUp = PassiveCheckpoint(connection);
        }
        catch (SqliteException e)
        {
            Log.WalCheckpointFailed(logger, e);
        }
        finally
        {
            Volatile.Write(ref _walCheckpointing, 0);
        }
    }

    /// <summary>PRAGMA wal_checkpoint(PASSIVE) on <paramref name="connection"/>; a failure is logged, never thrown.</summary>
    private bool PassiveCheckpoint(SqliteConnection connection)
    {
        try
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
            command.ExecuteNonQuery();
            return true;
        }
        catch (SqliteException e)
        {
            Log.WalCheckpointFailed(logger, e);
            return false;
        }
    }

    /// <summary>Stops the WAL thread and closes the writer's connection; the writer has stopped using it.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _walStop.Set();
        _walThread?.Join();
        _walStop.Dispose();
        _insert?.Dispose();
        _connection?.Dispose();
    }

    private sealed class Batch(SqliteAuditChainStore store, SqliteTransaction transaction) : IAuditBatch
    {
        private AuditHead _head = store._head;
        private bool _disposed;

        public AuditHead Head => store._head;

        public AuditKeyState KeyState(string keyId)
        {
            var (lastRunSeq, closedBy) = SqliteAuditRows.KeyState(store._connection!, transaction, keyId);
            return new AuditKeyState(lastRunSeq, closedBy);
        }

        public void Insert(IReadOnlyList<AuditEntry> entries)
        {
            for (var i = 0; i < entries.Count; i++)
            {
                store._insert!.Execute(transaction, entries[i]); // waits (busy_timeout) while another connection holds the write lock
            }
            if (entries.Count > 0)
            {
                _head = new AuditHead(entries[^1].Seq, entries[^1].Hash);
            }
        }

        public void Settle(IReadOnlyList<SpendClaim> settlements)
        {
            if (settlements.Count > 0)
            {
                throw new NotSupportedException("The SQLite chain keeps no spend: the ledger is in memory.");
            }
        }

        public void Commit()
        {
            transaction.Commit();
            store._head = _head;
        }

        /// <summary>Rolls back unless committed (as <c>using</c> on a SqliteTransaction does); safe to call twice.</summary>
        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                transaction.Dispose();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "WAL checkpoint failed; retrying in a second")]
        public static partial void WalCheckpointFailed(ILogger logger, Exception exception);
    }
}

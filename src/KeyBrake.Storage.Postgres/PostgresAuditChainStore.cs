using System.Data;
using KeyBrake.Audit;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// The chain on PostgreSQL, one chain for every replica (SPEC §9): each replica's writer keeps its group commit, and
/// every batch is one transaction that first takes <see cref="ChainLock"/>, then reads the head and the keys' state
/// inside it, so batches of all replicas are sealed one after another onto the same head.
/// The writer's connection is its own (not pooled: it must not come back from a pool already dead). A connection the
/// server or the network dropped is replaced by the next <see cref="Begin"/>, so the writer recovers by itself once the
/// database is back; meanwhile every batch fails with an <see cref="NpgsqlException"/> (a DbException), the writer
/// retries, and the host refuses proxied calls with 503 <c>audit_unavailable</c> (fail closed).
/// </summary>
internal sealed partial class PostgresAuditChainStore : IAuditChainStore
{
    /// <summary>The advisory lock every replica's audit batch takes first ("KBchain!"): one chain, one writer at a time.</summary>
    public const long ChainLock = 0x4B_42_63_68_61_69_6E_21;

    /// <summary>The key entries committed after $1 (the other replicas' batches since this one's last), at most $2 of them.</summary>
    private const string CatchUpSql = $"""
        SELECT key_id, run_seq, type FROM audit_entries
        WHERE seq > $1 AND key_id IS NOT NULL AND (run_seq IS NOT NULL OR type IN ('{AuditTypes.KeyRevoked}', '{AuditTypes.KeyExpired}'))
        ORDER BY seq LIMIT $2
        """;

    private readonly string _connectionString;
    private readonly ILogger<PostgresAuditChainStore> _logger;
    private NpgsqlConnection? _connection;
    private bool _disposed;

    public PostgresAuditChainStore(PostgresDatabase database, PostgresSpendDays spendDays, ILogger<PostgresAuditChainStore> logger)
    {
        _logger = logger;
        SpendDays = spendDays;
        _connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            Pooling = false,
            ApplicationName = "keybrake-audit-writer",
            MaxAutoPrepare = 16, // the lock + head, KeyState, spend, the unnest insert, the notification, COMMIT: the same few statements in every batch, with room to spare
            // A commit is durable on the server before the writer reports it (and a proxied call is forwarded), whatever
            // the server's or the role's default: with synchronous_commit=off a server crash loses the last commits,
            // and calls forwarded on their strength would be unrecorded (ReplicaFaultTests caught this on a test server).
            Options = "-c synchronous_commit=on",
        }.ConnectionString;
    }

    public AuditHead Open() => Run(PostgresAuditRows.ReadHead);

    /// <summary>Reservations are decided in the chain's batches (<see cref="PostgresSpendLedger"/>).</summary>
    public bool KeepsSpend => true;

    /// <summary>The days this replica's ledger has opened; a claim that finds its day missing makes it open it again.</summary>
    internal PostgresSpendDays SpendDays { get; }

    /// <summary>What this replica knows of keys' state; used on the writer's thread only.</summary>
    internal PostgresKeyStates Keys { get; } = new();

    /// <summary>
    /// BEGIN, then in one round trip: wait for the chain lock (held until COMMIT / ROLLBACK), then read the head and the
    /// key entries committed since this replica's last batch. Read committed: both are read after the lock is granted,
    /// so they include the previous holder's batch, and nothing else can commit to the chain until this batch ends.
    /// </summary>
    /// <para>
    /// The batch's spend claims ride in the same round trip (SPEC §9, caps exact across replicas): decided under the
    /// chain lock and the rows' locks, in the transaction that commits the entries carrying them, so a reservation and
    /// its call's <c>proxy.request</c> are durable together, with one commit (measured in the README). A row another
    /// session holds (only sessions outside KeyBrake lock these rows while this batch holds the chain lock) is skipped,
    /// not waited for: its claims come back busy, and the rest of the batch goes on (migration 3).
    /// </para>
    public IAuditBatch Begin(IReadOnlyList<SpendClaim>? spend = null)
    {
        var connection = Connection();
        NpgsqlTransaction? transaction = null;
        try
        {
            transaction = connection.BeginTransaction(IsolationLevel.ReadCommitted);
            using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock($1)") { Parameters = { new() { Value = ChainLock } } },
                    new NpgsqlBatchCommand(PostgresAuditRows.HeadSql),
                    new NpgsqlBatchCommand(CatchUpSql)
                    {
                        Parameters = { new() { Value = Keys.KnownSeq < 0 ? long.MaxValue : Keys.KnownSeq }, new() { Value = PostgresKeyStates.MaxCatchUp + 1 } },
                    },
                },
            };
            if (spend is { Count: > 0 })
            {
                batch.BatchCommands.Add(PostgresSpendRows.Decide(spend));
            }
            using var reader = batch.ExecuteReader();
            reader.NextResult();
            var head = PostgresAuditRows.ReadHead(reader);
            reader.NextResult();
            var since = new List<(string KeyId, long? RunSeq, string Type)>();
            while (reader.Read())
            {
                since.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetInt64(1), reader.GetString(2)));
            }
            if (spend is { Count: > 0 })
            {
                reader.NextResult();
                PostgresSpendRows.ReadOutcomes(reader, spend);
                foreach (var claim in spend)
                {
                    if (claim is { Outcome: null, Busy: false })
                    {
                        SpendDays.Forget(claim.KeyId, claim.Day); // gone (or never opened): the ledger opens it again
                    }
                }
            }
            CatchUp(head.Seq, since);
            return new PostgresAuditBatch(this, connection, transaction, head);
        }
        catch (NpgsqlException)
        {
            transaction?.Dispose();
            Broken();
            throw;
        }
        catch (Exception e)
        {
            // Anything else (a result the store did not expect) must not leave the transaction open, holding the chain
            // lock against every replica: the session is closed, and the writer retries the batch on a new one.
            Broken();
            throw new InvalidOperationException($"The chain's batch could not begin: {e.Message}", e);
        }
    }

    private void CatchUp(long headSeq, List<(string KeyId, long? RunSeq, string Type)> since)
    {
        if (Keys.KnownSeq < 0 || Keys.KnownSeq > headSeq || since.Count > PostgresKeyStates.MaxCatchUp)
        {
            Keys.Forget();
        }
        else
        {
            foreach (var (keyId, runSeq, type) in since)
            {
                Keys.Apply(keyId, runSeq, type);
            }
        }
        Keys.CaughtUpTo(headSeq);
    }

    /// <summary>Kept once per seq: replicas may each sign the same boundary.</summary>
    public void InsertCheckpoint(Checkpoint checkpoint) => Run(connection =>
    {
        using var command = new NpgsqlCommand(
            "INSERT INTO audit_checkpoints (seq, hash, ts, signature) VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO NOTHING", connection)
        {
            Parameters = { new() { Value = checkpoint.Seq }, new() { Value = checkpoint.Hash }, new() { Value = checkpoint.Ts }, new() { Value = checkpoint.Signature } },
        };
        return command.ExecuteNonQuery();
    });

    /// <summary>Nothing to do between batches: the server keeps its own WAL.</summary>
    public void BetweenBatches()
    {
    }

    /// <summary>
    /// The connection that failed is dropped; the next call opens a fresh one. What the keys' state was is forgotten:
    /// a commit whose answer was lost may or may not have happened.
    /// </summary>
    internal void Broken()
    {
        Keys.Forget();
        if (_connection is not null)
        {
            Log.ConnectionDropped(_logger);
            _connection.Dispose();
            _connection = null;
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _connection?.Dispose();
            _connection = null;
        }
    }

    private T Run<T>(Func<NpgsqlConnection, T> action)
    {
        try
        {
            return action(Connection());
        }
        catch (NpgsqlException)
        {
            Broken();
            throw;
        }
    }

    private NpgsqlConnection Connection()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_connection is { State: ConnectionState.Open })
        {
            return _connection;
        }
        _connection?.Dispose();
        _connection = null;
        var connection = new NpgsqlConnection(_connectionString);
        try
        {
            connection.Open();
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        return _connection = connection;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5301, Level = LogLevel.Warning, Message = "The audit writer's PostgreSQL connection failed; the next batch opens a new one")]
        public static partial void ConnectionDropped(ILogger logger);
    }
}

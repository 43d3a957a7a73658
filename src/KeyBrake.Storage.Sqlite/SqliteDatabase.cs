using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace KeyBrake.Storage.Sqlite;

/// <summary>The embedded store: one SQLite file in WAL mode, opened per operation from the connection pool.</summary>
internal sealed partial class SqliteDatabase : IStoreEngine
{
    private readonly ILogger<SqliteDatabase> _logger;

    static SqliteDatabase() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public SqliteDatabase(SqliteStoreOptions options, ILogger<SqliteDatabase> logger)
    {
        _logger = logger;
        Options = options;
        FilePath = options.Path;
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 10,
        }.ToString();
    }

    public SqliteStoreOptions Options { get; }

    public string FilePath { get; }

    public string Provider => "Sqlite";

    public string? LocalDirectory => Path.GetDirectoryName(FilePath);

    /// <summary>One process owns the file (SPEC §9).</summary>
    public bool IsShared => false;

    public string ConnectionString { get; }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        NoInlineWalCheckpoints(connection);
        return connection;
    }

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        NoInlineWalCheckpoints(connection);
        return connection;
    }

    // The audit writer copies the WAL back on its own timer; a revoke or key creation must not pay for a checkpoint
    // of the audit log's WAL inside its commit.
    private static void NoInlineWalCheckpoints(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_autocheckpoint=0;";
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Applies the numbered migrations that have not run yet, each in its own transaction. The file and its directory
    /// exist by now, owner-only (the host prepares them).
    /// </summary>
    public void Migrate()
    {
        using var connection = Open();
        connection.Execute("PRAGMA journal_mode=WAL;");
        connection.Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);");
        var applied = connection.Query<long>("SELECT version FROM schema_migrations").ToHashSet();
        foreach (var (version, sql) in SqliteMigrations.All)
        {
            if (applied.Contains(version))
            {
                continue;
            }
            using var transaction = connection.BeginTransaction();
            connection.Execute(sql, transaction: transaction);
            connection.Execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
                new { version }, transaction);
            transaction.Commit();
            Log.MigrationApplied(_logger, version);
        }
    }

    public bool IsReachable()
    {
        try
        {
            using var connection = Open();
            return connection.ExecuteScalar<long>("SELECT count(*) FROM schema_migrations") > 0;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Applied schema migration {Version}")]
        public static partial void MigrationApplied(ILogger logger, long version);
    }
}

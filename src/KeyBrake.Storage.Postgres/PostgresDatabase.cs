using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// The shared store: one PostgreSQL database for every replica, reached through one pooled <see cref="NpgsqlDataSource"/>.
/// Migrations take an advisory lock first, so replicas that start together apply each migration once.
/// </summary>
internal sealed partial class PostgresDatabase : IStoreEngine, IDisposable
{
    /// <summary>The advisory lock key of migrations ("KBmigrat").</summary>
    private const long MigrationLock = 0x4B_42_6D_69_67_72_61_74;

    private readonly ILogger<PostgresDatabase> _logger;

    static PostgresDatabase() => DefaultTypeMap.MatchNamesWithUnderscores = true;

    public PostgresDatabase(PostgresStoreOptions options, ILogger<PostgresDatabase> logger)
    {
        _logger = logger;
        Options = options;
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
        if (!builder.ContainsKey("Timeout"))
        {
            builder.Timeout = 5; // seconds to connect: a lost database fails calls closed quickly instead of holding them
        }
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "keybrake";
        }
        ConnectionString = builder.ConnectionString;
        // The pools' connections carry no session state of ours (every setting is SET LOCAL, inside its transaction), so
        // the DISCARD ALL Npgsql sends before each reuse is pure cost, and it would also drop the statements prepared
        // for the hot path (the key lookup, the ledger's reservation and settlement).
        if (!builder.ContainsKey("No Reset On Close"))
        {
            builder.NoResetOnClose = true;
        }
        if (!builder.ContainsKey("Max Auto Prepare"))
        {
            builder.MaxAutoPrepare = 32;
        }
        DataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        builder.Options = ((builder.Options ?? "") + " -c synchronous_commit=off -c lock_timeout=5s").Trim();
        builder.ApplicationName += "-ledger";
        LedgerSource = NpgsqlDataSource.Create(builder.ConnectionString);
    }

    /// <summary>
    /// The spend ledger's pool, off the proxy's path (a call's reservation and settlement ride the chain writer's own
    /// connection): the days it opens, the figures it reads, and the port's single claims. Its commits do not wait for
    /// the WAL flush. Safe because the WAL is one sequence: a day opened, or a claim applied, here is flushed with the
    /// next synchronous commit of the chain writer, before any call that relies on it is forwarded; a day opened and lost
    /// in a crash is opened again from the chain. Its sessions also wait at most 5 s for a row lock: a row held by
    /// something else (a session outside KeyBrake, a stuck transaction) fails the statement (55P03) instead of holding it
    /// for the command's 30 s.
    /// </summary>
    public NpgsqlDataSource LedgerSource { get; }

    public PostgresStoreOptions Options { get; }

    /// <summary>The connection string as used (with the password): never logged.</summary>
    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public string Provider => "Postgres";

    public string? LocalDirectory => null;

    public bool IsShared => true;

    public NpgsqlConnection Open() => DataSource.OpenConnection();

    public ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) => DataSource.OpenConnectionAsync(cancellationToken);

    /// <summary>
    /// Applies the numbered migrations that have not run yet in one transaction that first takes the migration lock:
    /// replicas starting together wait for the first, then find nothing left to do.
    /// </summary>
    public void Migrate()
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        connection.Execute("SELECT pg_advisory_xact_lock(@MigrationLock)", new { MigrationLock }, transaction);
        connection.Execute("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, applied_at text NOT NULL)", transaction: transaction);
        var applied = connection.Query<long>("SELECT version FROM schema_migrations", transaction: transaction).ToHashSet();
        foreach (var (version, sql) in PostgresMigrations.All)
        {
            if (applied.Contains(version))
            {
                continue;
            }
            connection.Execute(sql, transaction: transaction);
            connection.Execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))",
                new { version }, transaction);
            Log.MigrationApplied(_logger, version);
        }
        transaction.Commit();
    }

    public bool IsReachable()
    {
        try
        {
            using var connection = Open();
            return connection.ExecuteScalar<long>("SELECT count(*) FROM schema_migrations") > 0;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        DataSource.Dispose();
        LedgerSource.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1031, Level = LogLevel.Information, Message = "Applied PostgreSQL schema migration {Version}")]
        public static partial void MigrationApplied(ILogger logger, long version);
    }
}

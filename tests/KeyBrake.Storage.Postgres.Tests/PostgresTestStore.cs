using Dapper;
using KeyBrake.Tests.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace KeyBrake.Storage.Postgres.Tests;

/// <summary>
/// One test's PostgreSQL store: a database of its own on the test server, built through the public
/// <see cref="PostgresStorageServiceCollectionExtensions.AddKeyBrakePostgresStorage"/> and migrated, as the host does.
/// Every <see cref="OpenAsync"/> is another process on the same database (a replica, or a restart).
/// </summary>
internal sealed class PostgresTestStore
{
    private string? _name;
    private string? _connectionString;

    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("OpenAsync first");

    /// <param name="configure">Changes to the store's options (e.g. a replica that never polls the head).</param>
    /// <param name="services">Changes to the engine's registrations (after them: a later registration wins).</param>
    public async Task<IServiceProvider> OpenAsync(TimeProvider time, Func<PostgresStoreOptions, PostgresStoreOptions>? configure = null,
        Action<IServiceCollection>? services = null)
    {
        if (_name is null)
        {
            (_name, _connectionString) = await TestPostgres.CreateDatabaseAsync();
        }
        var collection = new ServiceCollection();
        collection.AddSingleton(time);
        collection.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        var options = new PostgresStoreOptions { ConnectionString = _connectionString! };
        collection.AddKeyBrakePostgresStorage(_ => configure?.Invoke(options) ?? options);
        services?.Invoke(collection);
        var provider = collection.BuildServiceProvider();
        provider.GetRequiredService<IStoreEngine>().Migrate();
        return provider;
    }

    /// <summary>Another connection holding the chain's advisory lock (what another replica's batch holds), until disposed.</summary>
    public IDisposable HoldWriteLock()
    {
        // Not pooled: a pooled connection's Close keeps the session (and its advisory lock) alive in the pool until it
        // is reused, and the writer would wait for it long after the test "released" the lock.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        connection.Execute("SELECT pg_advisory_lock(@key)", new { key = PostgresAuditChainStore.ChainLock });
        return connection; // closing the session releases the lock
    }

    /// <summary>
    /// Takes the database away as a lost server or network does (every session terminated, new ones refused), or gives
    /// it back. From a superuser session on another database.
    /// </summary>
    public async Task SetReachableAsync(bool reachable)
    {
        var name = new NpgsqlConnectionStringBuilder(ConnectionString).Database!;
        await using var connection = new NpgsqlConnection(TestPostgres.ServerConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync($"ALTER DATABASE {name} ALLOW_CONNECTIONS {(reachable ? "true" : "false")}");
        if (!reachable)
        {
            await connection.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @name AND pid <> pg_backend_pid()", new { name });
        }
    }

    /// <summary>What the database's owner can do: drop the append-only trigger and edit an entry.</summary>
    public bool Tamper(long seq)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        connection.Execute("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only; UPDATE audit_entries SET path = '/v1/refunds' WHERE seq = @seq", new { seq });
        return true;
    }

    public Task DeleteAsync() => _name is null ? Task.CompletedTask : TestPostgres.DropDatabaseAsync(_name);
}

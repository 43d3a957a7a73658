using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KeyBrake.Storage.Sqlite.Tests;

/// <summary>
/// One test's SQLite store: a file in a temporary (owner-only) directory, built through the public
/// <see cref="SqliteStorageServiceCollectionExtensions.AddKeyBrakeSqliteStorage"/> and migrated, as the host does.
/// </summary>
internal sealed class SqliteTestStore
{
    private readonly string _directory = Directory.CreateTempSubdirectory("keybrake-sqlite-").FullName;

    private string DatabasePath => Path.Combine(_directory, "keybrake.db");

    /// <summary>A new provider over the file: the first call creates it; a later one is the file as a restarted process finds it.</summary>
    public Task<IServiceProvider> OpenAsync(TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddSingleton(time);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddKeyBrakeSqliteStorage(_ => new SqliteStoreOptions { Path = DatabasePath });
        var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStoreEngine>().Migrate();
        return Task.FromResult<IServiceProvider>(provider);
    }

    /// <summary>A second connection in <c>BEGIN IMMEDIATE</c>: the database's write lock, until disposed.</summary>
    public IDisposable HoldWriteLock()
    {
        var connection = Connect();
        return new WriteLock(connection, connection.BeginTransaction(deferred: false));
    }

    /// <summary>What someone holding the file can do: drop the append-only trigger and edit an entry.</summary>
    public bool Tamper(long seq)
    {
        using var connection = Connect();
        connection.Execute("DROP TRIGGER audit_entries_no_update; UPDATE audit_entries SET path = '/v1/refunds' WHERE seq = @seq", new { seq });
        return true;
    }

    public Task DeleteAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        connection.Open();
        return connection;
    }

    private sealed class WriteLock(SqliteConnection connection, SqliteTransaction transaction) : IDisposable
    {
        public void Dispose()
        {
            transaction.Dispose(); // rolls back
            connection.Dispose();
        }
    }
}

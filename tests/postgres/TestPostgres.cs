using Npgsql;

namespace KeyBrake.Tests.Postgres;

/// <summary>
/// The PostgreSQL server the tests use: <c>KEYBRAKE_TEST_POSTGRES</c> (an Npgsql connection string to a superuser),
/// which ./test.sh sets after starting a throwaway cluster (tests/postgres/cluster.sh). Each test gets a database of its
/// own, made here and dropped afterwards.
/// </summary>
internal static class TestPostgres
{
    public const string Variable = "KEYBRAKE_TEST_POSTGRES";

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{Variable} is not set: run the tests with ./test.sh (it starts a throwaway PostgreSQL cluster), or set it to an Npgsql connection string of a server where the user may create databases.");

    /// <summary>A new empty database on the test server (or on <paramref name="server"/>); its connection string.</summary>
    public static async Task<(string Name, string ConnectionString)> CreateDatabaseAsync(string? server = null)
    {
        server ??= ServerConnectionString;
        var name = "kb_" + Guid.NewGuid().ToString("N")[..20];
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(server) { Database = name, MaxPoolSize = 20 };
        return (name, builder.ConnectionString);
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing whatever is still connected to it.</summary>
    public static async Task DropDatabaseAsync(string name, string? server = null)
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(server ?? ServerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }
}

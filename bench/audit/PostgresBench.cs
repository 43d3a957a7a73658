using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using KeyBrake.Audit;
using KeyBrake.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace KeyBrake.Audit.Bench;

/// <summary>
/// bench/audit --postgres SERVER --writers N: the chain on PostgreSQL with N writers on one database, as N replicas
/// (issue 16: ≥ 20,000 entries/s in total with three). SERVER is an Npgsql connection string of a user who may create
/// databases; each measurement gets a fresh database, dropped afterwards. Measures, per round:
///   1. sustained append rate in total: every writer's producers enqueue as fast as the writers commit;
///   2. durable append rate in total with callers awaiting their commit (as proxy.request does), 64 at a time per writer;
///   3. verify rate over the chain of (1) (the reader's pages, every hash recomputed).
/// </summary>
internal static class PostgresBench
{
    public static async Task<Dictionary<string, List<double>>> RunAsync(string server, int writers, int rounds, int appendCount, ECDsa key,
        Func<int, AuditEntry> entry)
    {
        var measured = new Dictionary<string, List<double>>();
        void Record(string name, double value) => (measured.TryGetValue(name, out var v) ? v : measured[name] = []).Add(value);
        for (var round = 1; round <= rounds; round++)
        {
            var directory = Directory.CreateTempSubdirectory("keybrake-audit-bench-pg-").FullName;
            var appendDb = await CreateDatabaseAsync(server);
            var durableDb = await CreateDatabaseAsync(server);
            try
            {
                Record("append_entries_per_s", await AppendRateAsync(appendDb.ConnectionString, directory, writers, appendCount, key, entry, awaitCommit: false));
                Record("durable_entries_per_s", await AppendRateAsync(durableDb.ConnectionString, directory, writers, appendCount / 3, key, entry, awaitCommit: true));
                Record("verify_entries_per_s", VerifyRate(appendDb.ConnectionString, key));
            }
            finally
            {
                NpgsqlConnection.ClearAllPools();
                await DropDatabaseAsync(server, appendDb.Name);
                await DropDatabaseAsync(server, durableDb.Name);
                Directory.Delete(directory, recursive: true);
            }
            Console.Error.WriteLine($"round {round}/{rounds}: " + string.Join(", ", measured.Select(m => $"{m.Key}={m.Value[^1]:0}")));
        }
        return measured;
    }

    private static async Task<double> AppendRateAsync(string connectionString, string directory, int writers, int count, ECDsa key,
        Func<int, AuditEntry> entry, bool awaitCommit)
    {
        var databases = Enumerable.Range(0, writers).Select(_ => Database(connectionString)).ToList();
        databases[0].Migrate();
        var started = databases.Select((database, w) => new AuditWriter(
            new AuditWriterOptions { CheckpointFile = Path.Combine(directory, $"{database.GetHashCode()}-{w}.ndjson") },
            new PostgresAuditChainStore(database, new PostgresSpendDays(), NullLogger<PostgresAuditChainStore>.Instance),
            new PostgresAuditReader(database), key, TimeProvider.System, NullLogger.Instance)).ToList();
        foreach (var writer in started)
        {
            writer.Start();
        }
        var callers = awaitCommit ? 64 : 4;
        var each = count / writers / callers;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(started.SelectMany(writer => Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < each; i++)
            {
                if (awaitCommit)
                {
                    if (!await writer.AppendDurableAsync(entry(c * each + i), TimeSpan.FromSeconds(30), abandonable: true, CancellationToken.None))
                    {
                        throw new InvalidOperationException("entry not committed");
                    }
                }
                else
                {
                    await writer.AppendAsync(entry(c * each + i), TimeSpan.FromSeconds(30));
                }
            }
        }))));
        foreach (var writer in started)
        {
            await writer.FlushAsync(CancellationToken.None);
        }
        var rate = each * callers * writers / clock.Elapsed.TotalSeconds;
        foreach (var writer in started)
        {
            await writer.DisposeAsync();
        }
        databases.ForEach(d => d.Dispose());
        return rate;
    }

    private static double VerifyRate(string connectionString, ECDsa key)
    {
        using var database = Database(connectionString);
        var reader = new PostgresAuditReader(database);
        var clock = Stopwatch.StartNew();
        var verified = ChainCheck.Full(reader, reader.ReadCheckpoints(), key);
        var elapsed = clock.Elapsed.TotalSeconds;
        return verified.Ok ? verified.Entries / elapsed : throw new InvalidOperationException(verified.Problem);
    }

    private static PostgresDatabase Database(string connectionString) =>
        new(new PostgresStoreOptions { ConnectionString = connectionString }, NullLogger<PostgresDatabase>.Instance);

    private static async Task<(string Name, string ConnectionString)> CreateDatabaseAsync(string server)
    {
        var name = "kb_bench_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        return (name, new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString);
    }

    private static async Task DropDatabaseAsync(string server, string name)
    {
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The table for the --postgres mode (median of the rounds, min–max).</summary>
    public static string Table(Dictionary<string, List<double>> measured, int writers, int rounds, int appendCount, string machine, string date)
    {
        string Cell(string name)
        {
            var sorted = measured[name].Order().ToList();
            return string.Create(CultureInfo.InvariantCulture, $"{sorted[sorted.Count / 2]:N0} ({sorted[0]:N0}–{sorted[^1]:N0})");
        }
        return $"""
            | measure (bench/audit --postgres, {writers} writers on one database, {machine}, {date}, median of {rounds} rounds, min–max) | result | target |
            |---|---|---|
            | sustained append in total, chained + committed ({appendCount:N0} entries) | {Cell("append_entries_per_s")} entries/s | ≥ 20,000 |
            | durable append in total, 64 callers per writer awaiting their commit ({appendCount / 3:N0} entries) | {Cell("durable_entries_per_s")} entries/s | |
            | verify ({appendCount:N0} entries) | {Cell("verify_entries_per_s")} entries/s | |
            """;
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using Dapper;
using KeyBrake.EndToEnd.Tests.Support;
using KeyBrake.Storage;
using KeyBrake.Storage.Postgres;
using KeyBrake.Tests.Postgres;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace KeyBrake.EndToEnd.Tests.Storage;

/// <summary>
/// SPEC §9 "Moving up": <c>KeyBrake storage copy --from-sqlite PATH</c>, the real server binary, from a stopped SQLite
/// deployment into a fresh database on the test PostgreSQL cluster: every row equal, seq and hashes unchanged, the
/// chain verifiable independently; a non-empty target, a tampered chain, a target that does not keep what it was
/// given, and a failure half-way are refused with nothing written; two copies at once: one wins.
/// </summary>
public sealed class StorageCopyTests(StoppedSqliteDeployment deployment) : IClassFixture<StoppedSqliteDeployment>, IAsyncLifetime
{
    private static readonly string[] Tables = ["principals", "vault_keys", "audit_entries", "audit_checkpoints"];
    private readonly List<string> _databases = [];

    [Fact]
    public async Task Copy_StoppedSqliteDeployment_PostgresHoldsEveryRowUnchanged()
    {
        var target = await NewDatabaseAsync();

        var copy = await CopyAsync(deployment.DatabasePath, target);

        Assert.True(copy.ExitCode == 0, copy.ToString());
        foreach (var table in new[] { "principals", "vault_keys", "audit_entries" })
        {
            Assert.Equal(await SqliteRowsAsync(deployment.DatabasePath, table), await PostgresRowsAsync(target, table));
        }
        // The checkpoints: the store's and those only in checkpoints.ndjson, one per seq.
        var stored = await SqliteRowsAsync(deployment.DatabasePath, "audit_checkpoints");
        var copied = await PostgresRowsAsync(target, "audit_checkpoints");
        Assert.NotEmpty(stored);
        Assert.Subset(copied.ToHashSet(), stored.ToHashSet());
        var fromFile = File.ReadAllLines(Path.Combine(deployment.DataDirectory, "checkpoints.ndjson")).Select(l => (long)JsonNode.Parse(l)!["seq"]!).ToHashSet();
        Assert.Equal(fromFile.Union(stored.Select(SeqOf)).Order(), copied.Select(SeqOf));

        // Independently of KeyBrake's code: the chain as PostgreSQL now holds it links and hashes, its checkpoints are signed.
        var entries = IndependentAudit.VerifyExport(await PostgresChainAsNdjsonAsync(target));
        var publicKey = File.ReadAllText(Path.Combine(deployment.DataDirectory, "audit-signing-key.pem"));
        await using (var connection = new NpgsqlConnection(target))
        {
            foreach (var (seq, hash, ts, signature) in await connection.QueryAsync<(long, string, string, string)>("SELECT seq, hash, ts, signature FROM audit_checkpoints"))
            {
                IndependentAudit.VerifyCheckpoint(new JsonObject { ["seq"] = seq, ["hash"] = hash, ["ts"] = ts, ["signature"] = signature }, publicKey, entries);
            }
            Assert.NotNull(await connection.ExecuteScalarAsync<string>("SELECT revoked_at FROM vault_keys WHERE id = @id", new { id = deployment.RevokedKeyId }));
        }
        Assert.Contains(entries, e => (string?)e["type"] == "key.revoked" && (string?)e["key_id"] == deployment.RevokedKeyId);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"head          seq {entries.Count} hash {entries[^1]["hash"]}"), copy.Stdout, StringComparison.Ordinal);

        // A second copy into the now filled database: refused, nothing changed.
        var before = await SnapshotAsync(target);
        var again = await CopyAsync(deployment.DatabasePath, target);
        Assert.True(again.ExitCode == 1, again.ToString());
        Assert.Contains("the target is not empty", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(target));
    }

    /// <summary>
    /// The round trip (ISSUE-16): KeyBrake started on the copied database, with the SQLite deployment's signing key as
    /// the shared secret, serves the copied key with today's spend carried over, refuses the revoked one, and its chain
    /// verifies.
    /// </summary>
    [Fact]
    public async Task Copy_ThenKeyBrakeOnPostgres_CopiedKeyWorks_RevokedKeyRefused_ChainVerifies()
    {
        var target = await NewDatabaseAsync();
        var copy = await CopyAsync(deployment.DatabasePath, target);
        Assert.True(copy.ExitCode == 0, copy.ToString());
        await using var vendor = await FakeVendor.StartAsync();
        var environment = Environment(target);
        environment["KeyBrake__Secrets__Local__audit-signing-key"] = await File.ReadAllTextAsync(Path.Combine(deployment.DataDirectory, "audit-signing-key.pem"));
        await using var replica = await KeyBrakeProcess.StartAsync(vendor, environment);
        var spentBefore = await StoppedSqliteDeployment.SpentTodayAsync(replica.Admin, deployment.KeptKeyId);

        using var kept = await replica.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", deployment.KeptToken,
            new StringContent("amount=7&currency=usd", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded")));
        using var revoked = await replica.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", deployment.RevokedToken,
            new StringContent("amount=8&currency=usd", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded")));
        using var verify = await replica.Admin.GetAsync("/v1/audit/verify");

        Assert.Equal(System.Net.HttpStatusCode.OK, kept.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, revoked.StatusCode);
        // Spend comes with the chain: the PostgreSQL ledger opens the key's day from it, so the cap counts on from there.
        Assert.True(deployment.KeptSpentToday > 0);
        Assert.Equal(deployment.KeptSpentToday, spentBefore);
        Assert.Equal(deployment.KeptSpentToday + 0.07m, await StoppedSqliteDeployment.SpentTodayAsync(replica.Admin, deployment.KeptKeyId));
        Assert.Single(vendor.Received);
        var result = JsonNode.Parse(await verify.Content.ReadAsStringAsync())!;
        Assert.True((bool)result["ok"]!, result.ToJsonString());
        Assert.True((long)result["entries"]! > (await SqliteRowsAsync(deployment.DatabasePath, "audit_entries")).Count);
    }

    [Fact]
    public async Task Copy_TamperedSqliteChain_RefusedNothingWritten()
    {
        var data = deployment.CopyDataDirectory();
        await using (var sqlite = new SqliteConnection($"Data Source={Path.Combine(data, "keybrake.db")};Pooling=false"))
        {
            await sqlite.ExecuteAsync("DROP TRIGGER audit_entries_no_update; UPDATE audit_entries SET path = '/v1/refunds' WHERE seq = 3");
        }
        var target = await NewDatabaseAsync();

        var copy = await CopyAsync(Path.Combine(data, "keybrake.db"), target);

        Assert.True(copy.ExitCode == 1, copy.ToString());
        Assert.Contains("does not verify at seq 3", copy.Stderr, StringComparison.Ordinal);
        await AssertEmptyAsync(target);
        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public async Task Copy_TargetThatAltersWhatItIsGiven_RefusedAfterReadingBack_NothingWritten()
    {
        var target = await NewDatabaseAsync();
        await MigrateAsync(target);
        // A target that does not keep the chain as given (think of a lossy conversion): caught by verifying the chain
        // read back inside the copy's transaction, before it commits.
        await using (var connection = new NpgsqlConnection(target))
        {
            await connection.ExecuteAsync("""
                CREATE FUNCTION kb_test_alter() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.seq = 4 THEN NEW.reason := 'altered'; END IF; RETURN NEW; END $$;
                CREATE TRIGGER kb_test_alter BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION kb_test_alter();
                """);
        }

        var copy = await CopyAsync(deployment.DatabasePath, target);

        Assert.True(copy.ExitCode == 1, copy.ToString());
        Assert.Contains("the chain read back from the target does not verify", copy.Stderr, StringComparison.Ordinal);
        Assert.Contains("seq 4 was altered", copy.Stderr, StringComparison.Ordinal);
        await AssertEmptyAsync(target);
    }

    [Fact]
    public async Task Copy_FailingHalfWay_LeavesTheTargetEmpty()
    {
        var target = await NewDatabaseAsync();
        await MigrateAsync(target);
        // principals are written first; vault_keys then no longer matches the source's columns and is refused.
        await using (var connection = new NpgsqlConnection(target))
        {
            await connection.ExecuteAsync("ALTER TABLE vault_keys ADD COLUMN added_by_hand text NULL");
        }

        var copy = await CopyAsync(deployment.DatabasePath, target);

        Assert.True(copy.ExitCode == 1, copy.ToString());
        Assert.Contains("vault_keys: the source's columns", copy.Stderr, StringComparison.Ordinal);
        await AssertEmptyAsync(target);
    }

    [Fact]
    public async Task Copy_TwoAtOnceIntoOneDatabase_OneCopiesTheOtherIsRefused()
    {
        var target = await NewDatabaseAsync();

        var copies = await Task.WhenAll(CopyAsync(deployment.DatabasePath, target), CopyAsync(deployment.DatabasePath, target));

        Assert.Equal([0, 1], copies.Select(c => c.ExitCode).Order());
        Assert.Contains("the target is not empty", copies.Single(c => c.ExitCode == 1).Stderr, StringComparison.Ordinal);
        Assert.Equal(await SqliteRowsAsync(deployment.DatabasePath, "audit_entries"), await PostgresRowsAsync(target, "audit_entries"));
    }

    [Fact]
    public async Task Copy_BadUsage_ExitsTwo()
    {
        var target = await NewDatabaseAsync();

        var noSource = await ServerCommand.RunAsync(["storage", "copy"], Environment(target));
        var unknown = await ServerCommand.RunAsync(["storage", "copy", "--from-sqlite", deployment.DatabasePath, "--into", "x"], Environment(target));
        var noTarget = await ServerCommand.RunAsync(["storage", "copy", "--from-sqlite", deployment.DatabasePath], []);
        var missing = await CopyAsync(Path.Combine(deployment.DataDirectory, "nothing-here.db"), target);

        Assert.True(noSource.ExitCode == 2, noSource.ToString());
        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        Assert.True(noTarget.ExitCode == 2, noTarget.ToString());
        Assert.Contains("KeyBrake__Storage__Postgres__ConnectionString", noTarget.Stderr, StringComparison.Ordinal);
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.False(File.Exists(Path.Combine(deployment.DataDirectory, "nothing-here.db"))); // not created by the attempt
        await AssertEmptyAsync(target);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var name in _databases)
        {
            await TestPostgres.DropDatabaseAsync(name);
        }
    }

    private static Task<CliProcess.Result> CopyAsync(string sqlitePath, string target) =>
        ServerCommand.RunAsync(["storage", "copy", "--from-sqlite", sqlitePath], Environment(target));

    /// <summary>
    /// As the replicas will be configured (SPEC §9): Provider Postgres, the connection string without its password, and
    /// the password as the secret PasswordSecretName names (Local secrets here; Key Vault in production).
    /// </summary>
    private static Dictionary<string, string?> Environment(string target)
    {
        var withoutPassword = new NpgsqlConnectionStringBuilder(target);
        var password = withoutPassword.Password;
        withoutPassword.Password = null;
        return new()
        {
            ["KeyBrake__Storage__Provider"] = "Postgres",
            ["KeyBrake__Storage__Postgres__ConnectionString"] = withoutPassword.ConnectionString,
            ["KeyBrake__Storage__Postgres__PasswordSecretName"] = "copy-db-password",
            ["KeyBrake__Secrets__Local__copy-db-password"] = password,
        };
    }

    private async Task<string> NewDatabaseAsync()
    {
        var (name, connectionString) = await TestPostgres.CreateDatabaseAsync();
        _databases.Add(name);
        return connectionString;
    }

    /// <summary>The target's schema as KeyBrake makes it, before the copy (which would otherwise make it).</summary>
    private static async Task MigrateAsync(string target)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddKeyBrakePostgresStorage(_ => new PostgresStoreOptions { ConnectionString = target });
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStoreEngine>().Migrate();
    }

    private static async Task AssertEmptyAsync(string target)
    {
        await using var connection = new NpgsqlConnection(target);
        var existing = (await connection.QueryAsync<string>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).ToHashSet();
        foreach (var table in Tables.Append("spend_days").Where(existing.Contains))
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}"));
        }
    }

    private static async Task<string> SnapshotAsync(string target)
    {
        var all = new List<string>();
        foreach (var table in Tables)
        {
            all.Add(table + ": " + string.Join("\n", await PostgresRowsAsync(target, table)));
        }
        return string.Join("\n\n", all);
    }

    /// <summary>Every row as "column=value|…" (columns by name, integers as integers), ordered by the primary key.</summary>
    private static async Task<List<string>> SqliteRowsAsync(string path, string table)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=false");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM {table}";
        await using var reader = await command.ExecuteReaderAsync();
        return Rows(reader);
    }

    private static async Task<List<string>> PostgresRowsAsync(string target, string table)
    {
        await using var connection = new NpgsqlConnection(target);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT * FROM {table}", connection);
        await using var reader = await command.ExecuteReaderAsync();
        return Rows(reader);
    }

    private static List<string> Rows(System.Data.Common.DbDataReader reader)
    {
        var rows = new List<(string Key, string Text)>();
        while (reader.Read())
        {
            var fields = Enumerable.Range(0, reader.FieldCount)
                .Select(i => (Name: reader.GetName(i), Value: reader.IsDBNull(i) ? "NULL" : reader.GetValue(i) switch
                {
                    string text => "'" + text + "'",
                    var number => Convert.ToInt64(number, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
                }))
                .OrderBy(f => f.Name, StringComparer.Ordinal)
                .ToList();
            rows.Add((Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!.PadLeft(20), string.Join("|", fields.Select(f => $"{f.Name}={f.Value}"))));
        }
        return [.. rows.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Text)];
    }

    private static long SeqOf(string row) => long.Parse(row.Split('|').Single(f => f.StartsWith("seq=", StringComparison.Ordinal))[4..], CultureInfo.InvariantCulture);

    /// <summary>The chain as an export would print it, built from PostgreSQL's rows (details is stored as its JSON text).</summary>
    private static async Task<string> PostgresChainAsNdjsonAsync(string target)
    {
        await using var connection = new NpgsqlConnection(target);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT * FROM audit_entries ORDER BY seq", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync())
        {
            var entry = new JsonObject();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                var name = reader.GetName(i);
                entry[name] = reader.IsDBNull(i) ? null
                    : name == "details" ? JsonNode.Parse(reader.GetString(i))
                    : reader.GetValue(i) switch { string text => JsonValue.Create(text), var number => JsonValue.Create(Convert.ToInt64(number, CultureInfo.InvariantCulture)) };
            }
            lines.Add(entry.ToJsonString());
        }
        return string.Join("\n", lines);
    }
}

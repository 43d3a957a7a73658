using System.Security.Cryptography;
using KeyBrake.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace KeyBrake.Audit.Tests;

/// <summary>
/// ChainCheck.Full verifies large chains in two halves in parallel, reading SQLite rows without strings. It must
/// report exactly what one pass of the verifier over materialised entries reports, wherever the break is.
/// </summary>
public sealed class ChainCheckTests(ChainCheckTests.Chain chain) : IClassFixture<ChainCheckTests.Chain>, IDisposable
{
    private const int Count = 60_000; // above the parallel threshold; the halves meet at seq 30,000
    private readonly string _directory = chain.CopyToNewDirectory();
    private readonly ECDsa _key = chain.Key;

    private string DatabasePath => Path.Combine(_directory, "audit.db");

    private string ConnectionString => $"Data Source={DatabasePath};Pooling=False";

    [Theory]
    [InlineData(null)]
    [InlineData("UPDATE audit_entries SET cost_usd_micros = 1 WHERE seq = 12345")]          // first half
    [InlineData("UPDATE audit_entries SET reason = 'x' WHERE seq = 30000")]                  // the seam, first side
    [InlineData("UPDATE audit_entries SET reason = 'x' WHERE seq = 30001")]                  // the seam, second side
    [InlineData("UPDATE audit_entries SET prev_hash = hash WHERE seq = 45000")]              // second half
    [InlineData("DELETE FROM audit_entries WHERE seq = 29999")]
    [InlineData("DELETE FROM audit_entries WHERE seq > 59000")]                              // cut tail: caught by the last checkpoint
    [InlineData("UPDATE audit_entries SET details = NULL WHERE seq = 59999")]
    public void Full_ReportsWhatOnePassReports(string? tamper)
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        if (tamper is not null)
        {
            Execute(connection, "DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete; " + tamper);
        }
        var checkpoints = SqliteAuditRows.ReadCheckpoints(connection);

        var parallel = ChainCheck.Full(SqliteChain.Reader(DatabasePath), checkpoints, _key);
        var onePass = new AuditVerifier(checkpoints, _key);
        foreach (var entry in SqliteAuditRows.ReadAfter(connection, 0))
        {
            if (!onePass.Add(entry))
            {
                break;
            }
        }
        var expected = onePass.Finish();

        Assert.Equal(expected, parallel);
        Assert.Equal(tamper is null, parallel.Ok);
    }

    [Fact]
    public void Full_ChainRewrittenInTheSecondHalf_NamesTheLastMatchingCheckpoint_EvenAcrossTheSeam()
    {
        using var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        var entries = SqliteAuditRows.ReadAfter(connection, 0).ToList();
        var before = SqliteAuditRows.ReadCheckpoints(connection);
        // Rewrite from the first checkpoint past the seam: the last one that still matches is in the first half.
        var from = before.First(c => c.Seq > Count / 2).Seq;
        var rewritten = TestChain.Relink(entries.Select(e => e.Seq == from ? e with { Path = "/v1/refunds" } : e));
        Execute(connection, "DROP TRIGGER audit_entries_no_update");
        using (var transaction = connection.BeginTransaction())
        {
            foreach (var entry in rewritten.Skip((int)from - 1))
            {
                using var update = connection.CreateCommand();
                update.CommandText = "UPDATE audit_entries SET path = $path, prev_hash = $prev, hash = $hash WHERE seq = $seq";
                update.Parameters.AddWithValue("$path", entry.Path);
                update.Parameters.AddWithValue("$prev", entry.PrevHash);
                update.Parameters.AddWithValue("$hash", entry.Hash);
                update.Parameters.AddWithValue("$seq", entry.Seq);
                update.ExecuteNonQuery();
            }
            transaction.Commit();
        }

        var checkpoints = SqliteAuditRows.ReadCheckpoints(connection);
        var lastMatching = checkpoints.Where(c => c.Seq < from).Max(c => c.Seq);

        var result = ChainCheck.Full(SqliteChain.Reader(DatabasePath), checkpoints, _key);

        Assert.True(lastMatching <= Count / 2);
        Assert.Equal(lastMatching + 1, result.FirstBadSeq);
        Assert.Contains($"rewritten after seq {lastMatching}", result.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(100, 45_000)]  // revoked in the first half, used in the second: only the two halves together see it
    [InlineData(31_000, 45_000)]
    [InlineData(100, 20_000)]
    public void Full_ProxyRequestAfterItsKeysRevocation_IsReportedAsOnePassReportsIt_WhereverTheHalvesMeet(int revokedAt, int usedAt)
    {
        var chain = TestChain.Build(Count, i =>
            i == revokedAt ? TestChain.Sample(i) with { KeyId = "key_x", Type = AuditTypes.KeyRevoked, Actor = "principal:ops", RunSeq = null }
            : i == usedAt ? TestChain.Sample(i) with { KeyId = "key_x", Actor = "key:key_x" }
            : TestChain.Sample(i));
        var directory = Directory.CreateTempSubdirectory("keybrake-chaincheck-").FullName;
        try
        {
            using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "audit.db")};Pooling=False");
            connection.Open();
            SqliteAuditRows.EnsureSchema(connection);
            using (var transaction = connection.BeginTransaction())
            using (var insert = new SqliteAuditInsert(connection))
            {
                foreach (var entry in chain)
                {
                    insert.Execute(transaction, entry); // written as a broken writer would have: the real one refuses it
                }
                transaction.Commit();
            }

            var parallel = ChainCheck.Full(SqliteChain.Reader(Path.Combine(directory, "audit.db")), [], _key);
            var onePass = new AuditVerifier([], _key);
            foreach (var entry in chain)
            {
                if (!onePass.Add(entry))
                {
                    break;
                }
            }

            Assert.Equal(onePass.Finish(), parallel);
            Assert.Equal(usedAt, parallel.FirstBadSeq);
            Assert.Contains("proxy.request of key key_x after its key.revoked", parallel.Problem, StringComparison.Ordinal);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>One chain written by the real writer, copied for each test to tamper with.</summary>
    public sealed class Chain : IAsyncLifetime
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("keybrake-chaincheck-").FullName;

        public ECDsa Key { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public async Task InitializeAsync()
        {
            await using var writer = SqliteChain.Writer(new AuditWriterOptions
            {
                CheckpointFile = Path.Combine(_directory, "checkpoints.ndjson"),
                CheckpointEvery = 7_000,
            }, Path.Combine(_directory, "audit.db"), Key);
            writer.Start();
            for (var i = 0; i < Count; i++)
            {
                await writer.AppendAsync(TestChain.Sample(i) with { Reason = i % 97 == 0 ? "quote \" and \n newline" : null }, TimeSpan.FromSeconds(30));
            }
            while (writer.HeadSeq < Count)
            {
                await writer.WaitForCommitAfterAsync(writer.HeadSeq, CancellationToken.None);
            }
        }

        public string CopyToNewDirectory()
        {
            var copy = Directory.CreateTempSubdirectory("keybrake-chaincheck-").FullName;
            foreach (var file in Directory.GetFiles(_directory))
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }
            return copy;
        }

        public Task DisposeAsync()
        {
            Key.Dispose();
            Directory.Delete(_directory, recursive: true);
            return Task.CompletedTask;
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

using System.Security.Cryptography;
using KeyBrake.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace KeyBrake.Audit.Tests;

/// <summary>The writer against a real SQLite file (WAL) in a temporary directory.</summary>
public sealed class AuditWriterTests : IAsyncLifetime
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("keybrake-audit-").FullName;
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private AuditWriter _writer = null!;

    private string DatabasePath => Path.Combine(_directory, "audit.db");

    private string ConnectionString => $"Data Source={DatabasePath};Pooling=False;Default Timeout=30";

    private string CheckpointPath => Path.Combine(_directory, "checkpoints.ndjson");

    public Task InitializeAsync()
    {
        _writer = NewWriter();
        Assert.True(_writer.Start().Ok);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task AppendDurableAsync_ConcurrentCallers_GiveAGaplessVerifiedChain_WithRunSeqPerKey()
    {
        const int callers = 8, each = 250;

        var results = await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
        {
            var ok = 0;
            for (var i = 0; i < each; i++)
            {
                ok += await _writer.AppendDurableAsync(Entry("key_" + (i % 4)), Long, abandonable: true, CancellationToken.None) ? 1 : 0;
            }
            return ok;
        })));
        await _writer.DisposeAsync();

        Assert.Equal(callers * each, results.Sum());
        using var connection = Open();
        var entries = SqliteAuditRows.ReadAfter(connection, 0).ToList();
        Assert.Equal(Enumerable.Range(1, callers * each).Select(i => (long)i), entries.Select(e => e.Seq));
        foreach (var key in entries.GroupBy(e => e.KeyId))
        {
            Assert.Equal(Enumerable.Range(1, key.Count()).Select(i => (long?)i), key.Select(e => e.RunSeq)); // in seq order
        }
        var result = ChainCheck.Full(SqliteChain.Reader(DatabasePath), SqliteAuditRows.ReadCheckpoints(connection), _key);
        Assert.True(result.Ok, result.Problem);
    }

    [Theory]
    [InlineData(AuditTypes.KeyRevoked, AppendResult.KeyRevoked)]
    [InlineData(AuditTypes.KeyExpired, AppendResult.KeyExpired)]
    public async Task CommitAsync_ProxyRequestAfterItsKeysRevocationIsSealed_IsWithdrawnNeverWritten_AlsoAfterARestart(string closing, AppendResult expected)
    {
        Assert.Equal(AppendResult.Committed, await _writer.CommitAsync(Entry("key_1"), Long, abandonable: true, CancellationToken.None));
        Assert.Equal(AppendResult.Committed, await _writer.CommitAsync(Entry("key_1", closing) with { Actor = "system" }, Long, abandonable: false, CancellationToken.None));

        var refused = await _writer.CommitAsync(Entry("key_1"), Long, abandonable: true, CancellationToken.None);
        var response = await _writer.CommitAsync(Entry("key_1", AuditTypes.ProxyResponse), Long, abandonable: true, CancellationToken.None);
        var otherKey = await _writer.CommitAsync(Entry("key_2"), Long, abandonable: true, CancellationToken.None);
        await _writer.DisposeAsync();
        _writer = NewWriter(); // what it sealed is read back from the chain
        _writer.Start();
        var afterRestart = await _writer.CommitAsync(Entry("key_1"), Long, abandonable: true, CancellationToken.None);
        await _writer.FlushAsync(CancellationToken.None);

        Assert.Equal((expected, AppendResult.Committed, AppendResult.Committed, expected), (refused, response, otherKey, afterRestart));
        using var connection = Open();
        var entries = SqliteAuditRows.ReadAfter(connection, 0).ToList();
        Assert.Equal([AuditTypes.ProxyRequest, closing, AuditTypes.ProxyResponse, AuditTypes.ProxyRequest], entries.Select(e => e.Type));
        Assert.Equal([1L, null, 2L, 1L], entries.Select(e => e.RunSeq)); // a withdrawn request takes no run_seq
        Assert.True(ChainCheck.Full(SqliteChain.Reader(DatabasePath), SqliteAuditRows.ReadCheckpoints(connection), _key).Ok);
    }

    [Fact]
    public async Task CommitAsync_RequestQueuedBehindItsKeysRevocationInOneBatch_IsWithdrawn()
    {
        Task<AppendResult> revoked, request;
        using (var locker = Open())
        {
            // Held, the writer's queue fills up behind the lock, and both entries are committed in one batch.
            using var transaction = locker.BeginTransaction(deferred: false);
            await _writer.AppendAsync(Entry(null, AuditTypes.ProxyResponse), Long);
            revoked = _writer.CommitAsync(Entry("key_1", AuditTypes.KeyRevoked) with { Actor = "principal:ops" }, Long, abandonable: false, CancellationToken.None);
            request = _writer.CommitAsync(Entry("key_1"), Long, abandonable: true, CancellationToken.None);
            await Task.Delay(200);
            transaction.Rollback();
        }

        Assert.Equal(AppendResult.Committed, await revoked);
        Assert.Equal(AppendResult.KeyRevoked, await request);
        using var connection = Open();
        Assert.DoesNotContain(SqliteAuditRows.ReadAfter(connection, 0), e => e.Type == AuditTypes.ProxyRequest);
    }

    [Fact]
    public async Task SteadyWrites_WalIsCopiedBackAndRestarted_WhileWritingNeverStops()
    {
        // The WAL header's checkpoint sequence number (bytes 12-15) goes up each time SQLite starts the WAL over. A
        // PASSIVE checkpoint alone never lets that happen while a writer keeps appending, and the WAL grew without bound.
        var wal = Path.Combine(_directory, "audit.db-wal");
        using var stop = new CancellationTokenSource();
        var producers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await _writer.AppendAsync(Entry("key_1", AuditTypes.ProxyResponse), Long);
            }
        })).ToArray();
        uint? first = null, last = null;
        for (var i = 0; i < 300 && (first is null || last == first); i++)
        {
            await Task.Delay(100);
            var seq = WalCheckpointSequence(wal);
            if (first is null && new FileInfo(wal).Length > SqliteAuditChainStore.WalCheckpointBytes)
            {
                first = seq;
            }
            last = seq;
        }
        stop.Cancel();
        await Task.WhenAll(producers);

        Assert.NotNull(first);
        Assert.NotEqual(first, last);
    }

    private static uint WalCheckpointSequence(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> header = stackalloc byte[16];
        file.ReadExactly(header);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header[12..]);
    }

    [Fact]
    public async Task FlushAsync_ReturnsOnceEverythingQueuedBeforeItIsCommitted()
    {
        for (var i = 0; i < 500; i++)
        {
            await _writer.AppendAsync(Entry("key_1", AuditTypes.ProxyResponse), Long);
        }

        await _writer.FlushAsync(CancellationToken.None);

        using var connection = Open();
        Assert.Equal(500, SqliteAuditRows.ReadAfter(connection, 0).Count());
    }

    [Fact]
    public async Task Checkpoints_EveryNEntries_AndAtShutdown_InTheDatabaseAndInTheFile()
    {
        await _writer.DisposeAsync();
        _writer = NewWriter(checkpointEvery: 100);
        _writer.Start();

        for (var i = 0; i < 350; i++)
        {
            Assert.True(await _writer.AppendDurableAsync(Entry("key_1"), Long, abandonable: true, CancellationToken.None));
        }
        await _writer.DisposeAsync();

        using var connection = Open();
        var stored = SqliteAuditRows.ReadCheckpoints(connection);
        Assert.Equal([100L, 200, 300, 350], stored.Select(c => c.Seq));
        Assert.Equal(stored, CheckpointFile.Read(CheckpointPath));
        Assert.All(stored, c => Assert.True(c.IsSignedBy(_key)));
        Assert.All(stored, c => Assert.Equal(SqliteAuditRows.HashAt(connection, c.Seq), c.Hash));
    }

    [Fact]
    public async Task DatabaseRefusingWrites_FailsWithdrawableEntries_AndRetriesTheOthersUntilItAccepts()
    {
        Execute("CREATE TRIGGER fail BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;");

        var request = await _writer.AppendDurableAsync(Entry("key_1", AuditTypes.ProxyRequest), Long, abandonable: true, CancellationToken.None);
        var admin = await _writer.AppendDurableAsync(Entry(null, AuditTypes.KeyRevoked), TimeSpan.FromMilliseconds(300), abandonable: false, CancellationToken.None);
        var failing = _writer.Failure;
        Execute("DROP TRIGGER fail;");
        await _writer.WaitForCommitAfterAsync(0, CancellationToken.None).WaitAsync(Long);

        Assert.False(request); // its call is refused, and it is never written
        Assert.False(admin);   // not yet written when its caller gave up...
        Assert.Contains("disk I/O error", failing, StringComparison.Ordinal);
        using var connection = Open();
        var entry = Assert.Single(SqliteAuditRows.ReadAfter(connection, 0)); // ...but written once the database accepts
        Assert.Equal((1L, AuditTypes.KeyRevoked), (entry.Seq, entry.Type));
        Assert.Null(_writer.Failure);
    }

    [Fact]
    public async Task LockedDatabase_EntryTimesOut_IsWithdrawn_AndNeverWritten()
    {
        using (var locker = Open())
        {
            using var transaction = locker.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: holds the write lock
            var timedOut = await _writer.AppendDurableAsync(Entry("key_1"), TimeSpan.FromMilliseconds(300), abandonable: true, CancellationToken.None);
            Assert.False(timedOut);
            transaction.Rollback();
        }

        Assert.True(await _writer.AppendDurableAsync(Entry("key_1") with { RequestId = "req_after" }, Long, abandonable: true, CancellationToken.None));
        using var connection = Open();
        var entry = Assert.Single(SqliteAuditRows.ReadAfter(connection, 0));
        Assert.Equal(("req_after", 1L, 1L), (entry.RequestId, entry.Seq, entry.RunSeq));
    }

    [Fact]
    public async Task FullQueue_AppendWaitsForRoom_ThenFailsLoudly_NeverDropsSilently()
    {
        await _writer.DisposeAsync();
        _writer = NewWriter(queueCapacity: 2);
        _writer.Start();
        using var locker = Open();
        using var transaction = locker.BeginTransaction(deferred: false);

        var stuck = _writer.AppendDurableAsync(Entry("key_1"), Long, abandonable: false, CancellationToken.None); // the writer takes it and waits for the lock
        SpinWait.SpinUntil(() => _writer.QueueDepth == 0, Long);
        await _writer.AppendAsync(Entry("key_1"), Long);
        await _writer.AppendAsync(Entry("key_1"), Long); // the queue is full now
        var refused = await Assert.ThrowsAsync<AuditUnavailableException>(() => _writer.AppendAsync(Entry("key_1"), TimeSpan.FromMilliseconds(200)).AsTask());
        transaction.Rollback();
        Assert.True(await stuck);
        await _writer.DisposeAsync();

        Assert.Contains("full", refused.Message, StringComparison.Ordinal);
        using var connection = Open();
        Assert.Equal(3, SqliteAuditRows.ReadAfter(connection, 0).Count()); // all accepted entries, none of the refused
    }

    [Fact]
    public async Task Start_TailTamperedWhileStopped_IsReportedWithTheFirstBadSeq()
    {
        for (var i = 0; i < 10; i++)
        {
            await _writer.AppendDurableAsync(Entry("key_1"), Long, abandonable: true, CancellationToken.None);
        }
        await _writer.DisposeAsync();
        Execute("DROP TRIGGER audit_entries_no_update; UPDATE audit_entries SET cost_usd_micros = 1 WHERE seq = 12;");
        Execute("DELETE FROM audit_checkpoints; UPDATE audit_entries SET path = '/v1/refunds' WHERE seq = 7;");
        File.Delete(CheckpointPath);

        _writer = NewWriter();
        var check = _writer.Start();

        Assert.False(check.Ok);
        Assert.Equal(7, check.FirstBadSeq);
    }

    [Fact]
    public async Task Start_TailTruncatedWhileStopped_IsCaughtByTheCheckpointFile()
    {
        for (var i = 0; i < 10; i++)
        {
            await _writer.AppendDurableAsync(Entry("key_1"), Long, abandonable: true, CancellationToken.None);
        }
        await _writer.DisposeAsync(); // final checkpoint at seq 10, in the database and in the file
        Execute("DROP TRIGGER audit_entries_no_delete; DELETE FROM audit_entries WHERE seq > 6; DELETE FROM audit_checkpoints;");

        _writer = NewWriter();
        var check = _writer.Start();

        Assert.False(check.Ok);
        Assert.Equal(7, check.FirstBadSeq);
        Assert.Contains("removed from the end", check.Problem, StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        await _writer.DisposeAsync();
        _key.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private AuditWriter NewWriter(long checkpointEvery = 1000, int queueCapacity = 1024) => SqliteChain.Writer(new AuditWriterOptions
    {
        CheckpointFile = CheckpointPath,
        CheckpointEvery = checkpointEvery,
        QueueCapacity = queueCapacity,
    }, DatabasePath, _key);

    private static AuditEntry Entry(string? keyId, string type = AuditTypes.ProxyRequest) => new()
    {
        Ts = "2026-06-03T10:00:00.000Z",
        Type = type,
        KeyId = keyId,
        Actor = keyId is null ? "principal:ops" : "key:" + keyId,
        RequestId = "req_" + Guid.NewGuid().ToString("N"),
    };

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    private void Execute(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

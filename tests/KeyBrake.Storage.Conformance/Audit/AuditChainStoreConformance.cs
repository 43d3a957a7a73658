using KeyBrake.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace KeyBrake.Storage.Conformance.Audit;

/// <summary>
/// The contract of <see cref="IAuditChainStore"/>: one batch at a time, nothing visible before its commit, the head and a
/// key's state read inside the batch, checkpoints kept once. The chain tests run through the real
/// <see cref="AuditWriter"/>, whose queue protocol (group commit, withdrawal, sealing) relies on exactly that.
/// </summary>
public abstract class AuditChainStoreConformance : AuditConformance
{
    /// <summary>
    /// The same store opened again, as a restarted process opens it (SQLite: the same file; PostgreSQL: the same
    /// database), after the previous chain store was disposed.
    /// </summary>
    protected abstract Task<IServiceProvider> ReopenStoreAsync();

    /// <summary>
    /// Holds the store's write lock from outside the writer (another connection's write transaction) until disposed;
    /// returns once the lock is held.
    /// </summary>
    protected abstract IDisposable HoldWriteLock();

    [Fact]
    public async Task CommitAndAppend_RacingProducers_GiveAGaplessVerifiedChain_WithEachKeysRunSeqGapless()
    {
        const int producers = 8, each = 500;
        var writer = StartWriter(Store);

        var results = await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
        {
            var committed = 0;
            for (var i = 0; i < each; i++)
            {
                // Several keys, keyless admin entries between them, half the callers waiting for their commit.
                var entry = i % 10 == 9
                    ? Entry(AuditTypes.PrincipalCreated, null)
                    : Entry(i % 3 == 0 ? AuditTypes.ProxyResponse : AuditTypes.ProxyRequest, "key_" + ((p + i) % 5));
                if (i % 2 == 0)
                {
                    committed += await writer.CommitAsync(entry, LongWait, abandonable: true, CancellationToken.None) == AppendResult.Committed ? 1 : 0;
                }
                else
                {
                    await writer.AppendAsync(entry, LongWait);
                    committed++;
                }
            }
            return committed;
        })));
        await writer.FlushAsync(CancellationToken.None);

        Assert.Equal(producers * each, results.Sum());
        var reader = ReaderOf(Store);
        var entries = await ReadAllAsync(reader);
        Assert.Equal(Enumerable.Range(1, producers * each).Select(i => (long)i), entries.Select(e => e.Seq));
        foreach (var key in entries.Where(e => e.KeyId is not null).GroupBy(e => e.KeyId))
        {
            Assert.Equal(Enumerable.Range(1, key.Count()).Select(i => (long?)i), key.Select(e => e.RunSeq));
        }
        Assert.All(entries.Where(e => e.KeyId is null), e => Assert.Null(e.RunSeq));
        Assert.Equal(new AuditHead(entries[^1].Seq, entries[^1].Hash), reader.ReadHead());
        Assert.Equal([1_000L, 2_000, 3_000, 4_000], reader.ReadCheckpoints().Select(c => c.Seq));
        var check = ChainCheck.Full(reader, writer.AllCheckpoints(), SigningKey);
        Assert.True(check.Ok, check.Problem);
        Assert.Equal(producers * each, check.Entries);
    }

    [Fact]
    public async Task Begin_DisposedWithoutCommit_LeavesNothingVisible_AndTheHeadUnchanged()
    {
        var store = Store.GetRequiredService<IAuditChainStore>();
        var reader = ReaderOf(Store);
        Assert.Equal(AuditHead.Empty, store.Open());
        var first = Seal(AuditHead.Empty, Entry(AuditTypes.KeyCreated, "key_1"), Entry(AuditTypes.PrincipalCreated, null));
        using (var batch = store.Begin())
        {
            Assert.Equal(AuditHead.Empty, batch.Head);
            batch.Insert(first);
            Assert.Equal(AuditHead.Empty, reader.ReadHead()); // nothing is visible before the commit
            batch.Commit();
        }
        var committed = new AuditHead(2, first[^1].Hash);

        using (var batch = store.Begin())
        {
            Assert.Equal(committed, batch.Head);
            batch.Insert(Seal(committed, Entry(AuditTypes.KeyRevoked, "key_1"), Entry(AuditTypes.PrincipalDisabled, null)));
        } // disposed without Commit: rolled back

        Assert.Equal(committed, reader.ReadHead());
        Assert.Equal(first, await ReadAllAsync(reader));
        Assert.Null(reader.HashAt(3));
        using (var batch = store.Begin())
        {
            Assert.Equal(committed, batch.Head);
            Assert.Equal(new AuditKeyState(0, null), batch.KeyState("key_1")); // the rolled-back key.revoked is not there
            var next = Seal(batch.Head, Entry(AuditTypes.KeyUpdated, "key_1"));
            batch.Insert(next);
            batch.Commit();
            Assert.Equal(new AuditHead(3, next[0].Hash), reader.ReadHead()); // the seq the rolled-back batch had used
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(700)] // past any engine's small-batch path (PostgreSQL: above 256 entries a batch goes by binary COPY)
    public async Task Insert_EveryFieldSetOrNull_ReadsBackExactlyAsSealed_InSmallAndLargeBatches(int count)
    {
        var store = Store.GetRequiredService<IAuditChainStore>();
        store.Open();
        using var batch = store.Begin();
        var entries = Seal(batch.Head, [.. Enumerable.Range(0, count).Select(i => i % 2 == 0
            ? Entry(AuditTypes.ProxyResponse, "key_fields", ts: $"2026-06-03T10:00:{i % 60:00}.{i % 1000:000}Z") with
            {
                Label = "run-7/step 'ü' \\ \"quoted\"",
                RunSeq = i + 1,
                Vendor = "stripe",
                Method = "POST",
                Path = "/v1/payment_intents",
                CostUsdMicros = 1_000_000_000_000_000L + i,
                Decision = "allow",
                Outcome = "executed",
                HttpStatus = 200 + i % 300,
                VendorRequestId = "req_vendor_" + i,
                Reason = "reason\nwith a newline",
                PolicyHash = "sha256:" + new string('a', 64),
                Details = "{\"amount_minor\":" + i + ",\"nested\":{\"k\":[1,2,3]}}",
            }
            : Entry(AuditTypes.PrincipalCreated, null))]);
        batch.Insert(entries);
        batch.Commit();

        Assert.Equal(entries, await ReadAllAsync(ReaderOf(Store)));
    }

    [Theory]
    [InlineData(2, 3)]
    [InlineData(2, 300)]
    [InlineData(300, 2)]
    public async Task Insert_CalledTwiceInOneBatch_KeepsBothParts(int first, int second)
    {
        var store = Store.GetRequiredService<IAuditChainStore>();
        store.Open();
        using var batch = store.Begin();
        var entries = Seal(batch.Head, [.. Enumerable.Range(0, first + second).Select(i => Entry(AuditTypes.ProxyRequest, "key_" + i % 3) with { RunSeq = i / 3 + 1 })]);
        batch.Insert(entries[..first]);
        batch.Insert(entries[first..]);
        batch.Commit();

        Assert.Equal(entries, await ReadAllAsync(ReaderOf(Store)));
        using var next = store.Begin();
        Assert.Equal(new AuditHead(entries[^1].Seq, entries[^1].Hash), next.Head);
        Assert.Equal((first + second - 1) / 3 + 1, next.KeyState("key_0").LastRunSeq); // both parts count in the key's state
    }

    [Fact]
    public async Task Head_ReflectsTheLastCommit_InTheNextBatch_InTheReader_AndAfterAReopen()
    {
        var store = Store.GetRequiredService<IAuditChainStore>();
        Assert.Equal(AuditHead.Empty, store.Open());
        var head = AuditHead.Empty;
        for (var round = 0; round < 3; round++)
        {
            using var batch = store.Begin();
            Assert.Equal(head, batch.Head);
            var entries = Seal(batch.Head, Entry(AuditTypes.PrincipalCreated, null), Entry(AuditTypes.PrincipalCreated, null));
            batch.Insert(entries);
            batch.Commit();
            head = new AuditHead(entries[^1].Seq, entries[^1].Hash);
            Assert.Equal(head, ReaderOf(Store).ReadHead());
        }
        store.Dispose();

        var reopened = Own(await ReopenStoreAsync());

        Assert.Equal(head, reopened.GetRequiredService<IAuditChainStore>().Open());
        Assert.Equal(6, (await ReadAllAsync(ReaderOf(reopened))).Count);
    }

    [Fact]
    public void KeyState_InsideABatch_IsTheLastRunSeq_AndTheFirstClosingEntry()
    {
        var store = Store.GetRequiredService<IAuditChainStore>();
        store.Open();
        using (var batch = store.Begin())
        {
            batch.Insert(Seal(batch.Head,
                Entry(AuditTypes.KeyCreated, "key_a"),
                Entry(AuditTypes.ProxyRequest, "key_a") with { RunSeq = 1 },
                Entry(AuditTypes.ProxyRequest, "key_b") with { RunSeq = 1 },
                Entry(AuditTypes.ProxyResponse, "key_a") with { RunSeq = 2 },
                Entry(AuditTypes.KeyRevoked, "key_a"),
                Entry(AuditTypes.KeyExpired, "key_a"),
                Entry(AuditTypes.ProxyResponse, "key_a") with { RunSeq = 3 }, // an in-flight call's answer, after the revocation
                Entry(AuditTypes.KeyExpired, "key_c"),
                Entry(AuditTypes.KeyRevoked, "key_c"),
                Entry(AuditTypes.KeyUpdated, "key_d")));
            batch.Commit();
        }

        using var next = store.Begin();

        Assert.Equal(new AuditKeyState(3, AuditTypes.KeyRevoked), next.KeyState("key_a"));
        Assert.Equal(new AuditKeyState(1, null), next.KeyState("key_b"));
        Assert.Equal(new AuditKeyState(0, AuditTypes.KeyExpired), next.KeyState("key_c"));
        Assert.Equal(new AuditKeyState(0, null), next.KeyState("key_d"));
        Assert.Equal(new AuditKeyState(0, null), next.KeyState("key_unknown"));
    }

    [Fact]
    public void InsertCheckpoint_TwiceForOneSeq_KeepsTheFirst_AndReadCheckpointsIsInSeqOrder()
    {
        var store = Store.GetRequiredService<IAuditChainStore>();
        store.Open();
        var entries = Seal(AuditHead.Empty, Entry(AuditTypes.PrincipalCreated, null), Entry(AuditTypes.PrincipalCreated, null), Entry(AuditTypes.PrincipalCreated, null));
        using (var batch = store.Begin())
        {
            batch.Insert(entries);
            batch.Commit();
        }
        Checkpoint At(int seq, string ts) => Checkpoint.Sign(SigningKey, seq, entries[seq - 1].Hash, ts);
        var kept = At(2, "2026-06-03T10:00:01.000Z");

        store.InsertCheckpoint(At(3, "2026-06-03T10:00:00.000Z"));
        store.InsertCheckpoint(kept);
        store.InsertCheckpoint(At(2, "2026-06-03T10:00:02.000Z"));
        store.InsertCheckpoint(At(1, "2026-06-03T10:00:03.000Z"));

        var stored = ReaderOf(Store).ReadCheckpoints();
        Assert.Equal([1L, 2, 3], stored.Select(c => c.Seq));
        Assert.Equal(kept, stored[1]);
        Assert.All(stored, c => Assert.True(c.IsSignedBy(SigningKey)));
    }

    [Fact]
    public async Task AppendDurableAsync_WhileTheWriteLockIsHeld_AnAbandonableEntryThatTimesOutIsNeverWritten_ANonAbandonableOneIsWrittenAfter()
    {
        var writer = StartWriter(Store);
        Assert.True(await writer.AppendDurableAsync(Entry(AuditTypes.ProxyRequest, "key_1", "req_before"), LongWait, abandonable: true, CancellationToken.None));

        bool abandoned, kept;
        using (HoldWriteLock())
        {
            var abandonedTask = writer.AppendDurableAsync(Entry(AuditTypes.ProxyRequest, "key_1", "req_abandoned"), TimeSpan.FromMilliseconds(300), abandonable: true, CancellationToken.None);
            var keptTask = writer.AppendDurableAsync(Entry(AuditTypes.ProxyResponse, "key_1", "req_kept"), TimeSpan.FromMilliseconds(300), abandonable: false, CancellationToken.None);
            (abandoned, kept) = (await abandonedTask, await keptTask);
        }
        await writer.FlushAsync(CancellationToken.None);

        Assert.False(abandoned); // its call is refused and never happens...
        Assert.False(kept);      // ...this one was not durable in time, but is still written
        var entries = await ReadAllAsync(ReaderOf(Store));
        Assert.Equal([("req_before", 1L, 1L), ("req_kept", 2, 2)], entries.Select(e => (e.RequestId!, e.Seq, e.RunSeq!.Value)));
        Assert.True(ChainCheck.Full(ReaderOf(Store), writer.AllCheckpoints(), SigningKey).Ok);
    }

    [Theory]
    [InlineData(AuditTypes.KeyRevoked, AppendResult.KeyRevoked)]
    [InlineData(AuditTypes.KeyExpired, AppendResult.KeyExpired)]
    public async Task CommitAsync_ProxyRequestOfAKeyWhoseClosingEntryIsSealed_IsWithdrawnNeverStored_AlsoAfterAReopen(string closing, AppendResult expected)
    {
        var writer = StartWriter(Store);
        Assert.Equal(AppendResult.Committed, await writer.CommitAsync(Entry(AuditTypes.ProxyRequest, "key_1"), LongWait, abandonable: true, CancellationToken.None));
        Assert.Equal(AppendResult.Committed, await writer.CommitAsync(Entry(closing, "key_1"), LongWait, abandonable: false, CancellationToken.None));

        var refused = await writer.CommitAsync(Entry(AuditTypes.ProxyRequest, "key_1"), LongWait, abandonable: true, CancellationToken.None);
        var answer = await writer.CommitAsync(Entry(AuditTypes.ProxyResponse, "key_1"), LongWait, abandonable: true, CancellationToken.None);
        var otherKey = await writer.CommitAsync(Entry(AuditTypes.ProxyRequest, "key_2"), LongWait, abandonable: true, CancellationToken.None);
        await writer.DisposeAsync();
        // A restarted writer knows nothing: what it withdraws now, it learnt from the store's KeyState.
        var reopened = Own(await ReopenStoreAsync());
        var restarted = StartWriter(reopened);
        var refusedAfterReopen = await restarted.CommitAsync(Entry(AuditTypes.ProxyRequest, "key_1"), LongWait, abandonable: true, CancellationToken.None);
        var otherKeyAfterReopen = await restarted.CommitAsync(Entry(AuditTypes.ProxyRequest, "key_2"), LongWait, abandonable: true, CancellationToken.None);

        Assert.Equal((expected, AppendResult.Committed, AppendResult.Committed), (refused, answer, otherKey));
        Assert.Equal((expected, AppendResult.Committed), (refusedAfterReopen, otherKeyAfterReopen));
        var entries = await ReadAllAsync(ReaderOf(reopened));
        Assert.Equal(
            [(AuditTypes.ProxyRequest, "key_1", 1L), (closing, "key_1", null), (AuditTypes.ProxyResponse, "key_1", 2L), (AuditTypes.ProxyRequest, "key_2", 1L), (AuditTypes.ProxyRequest, "key_2", 2L)],
            entries.Select(e => (e.Type, e.KeyId!, e.RunSeq)));
        Assert.Equal(Enumerable.Range(1, 5).Select(i => (long)i), entries.Select(e => e.Seq));
        Assert.True(ChainCheck.Full(ReaderOf(reopened), restarted.AllCheckpoints(), SigningKey).Ok);
    }
}

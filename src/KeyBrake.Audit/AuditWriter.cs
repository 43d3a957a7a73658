using System.Data.Common;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace KeyBrake.Audit;

/// <summary>
/// The single owner of the chain. Entries wait in a bounded queue; one loop takes what is there (up to MaxBatch),
/// gives each its seq, run_seq, prev_hash and hash, and commits the batch in one transaction. A caller that must not
/// go on before its entry is durable (<c>proxy.request</c>, admin changes) awaits the commit; others only enqueue.
/// A full queue makes callers wait, then fail: an entry is never dropped.
/// Revocation is provable from the chain (SPEC §7): the writer knows which keys' <c>key.revoked</c> or
/// <c>key.expired</c> it has sealed, and withdraws a later <c>proxy.request</c> of such a key instead of sealing it.
/// Everything here is engine-neutral; rows are read and written through <see cref="IAuditChainStore"/>, one batch per
/// transaction.
/// </summary>
public sealed partial class AuditWriter : IAsyncDisposable
{
    private readonly AuditWriterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ECDsa _signingKey;
    private readonly Channel<Pending> _queue;
    /// <summary>Per key: its last run_seq and whether its key.revoked / key.expired is sealed. Read from the store on a miss.</summary>
    private readonly Dictionary<string, KeyState> _keys = new(StringComparer.Ordinal);
    private readonly List<Pending> _retry = [];

    /// <summary>Settlements whose key's row was held elsewhere when their entry was committed: they go with the next batches.</summary>
    private readonly List<SpendClaim> _carried = [];
    private readonly IAuditChainStore _store;
    private readonly IAuditReader _reader;
    private readonly InProcessCommitSignal _signal;
    private readonly List<AuditEntry> _sealed = [];
    private Task? _loop;
    private ITimer? _ticker;
    private long _seq;
    private string _hash = AuditHash.Genesis;
    private readonly List<(long Seq, string Hash)> _dueCheckpoints = [];
    private Checkpoint? _lastCheckpoint;
    private DateTimeOffset _lastCheckpointAt;
    private volatile string? _failure;
    private volatile bool _stopping;

    /// <param name="signal">Told of every commit (the live stream waits on it); a new one when null.</param>
    public AuditWriter(AuditWriterOptions options, IAuditChainStore store, IAuditReader reader, ECDsa signingKey, TimeProvider time, ILogger logger,
        InProcessCommitSignal? signal = null)
    {
        _options = options;
        _store = store;
        _reader = reader;
        _signal = signal ?? new InProcessCommitSignal();
        _signingKey = signingKey;
        _time = time;
        _logger = logger;
        _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>The seq of the last committed entry.</summary>
    public long HeadSeq => Volatile.Read(ref _seq);

    /// <summary>Null while commits succeed; the last database error while they fail.</summary>
    public string? Failure => _failure;

    /// <summary>Entries waiting for the writer.</summary>
    public int QueueDepth => _queue.Reader.Count;

    /// <summary>Opens the store, checks the chain's tail against the checkpoints, and starts the loop.</summary>
    public VerifyResult Start()
    {
        (_seq, _hash) = _store.Open();
        _signal.Committed(_seq);
        var checkpoints = AllCheckpoints();
        var check = ChainCheck.Tail(_reader, checkpoints, _signingKey);
        _lastCheckpoint = checkpoints.Where(c => c.Seq <= _seq).MaxBy(c => c.Seq);
        _lastCheckpointAt = _time.GetUtcNow();
        // Its own thread: the store's calls block, and on two cores a blocked pool thread starves the continuations of
        // every caller waiting for a commit (bench/audit).
        _loop = StartThread("keybrake-audit-writer", Run);
        _ticker = _time.CreateTimer(_ => _queue.Writer.TryWrite(Pending.Tick), null, _options.CheckpointInterval, _options.CheckpointInterval);
        return check;
    }

    /// <summary>Checkpoints from the store and from the file outside it.</summary>
    public List<Checkpoint> AllCheckpoints()
    {
        var fromStore = _reader.ReadCheckpoints();
        var fromFile = CheckpointFile.Read(_options.CheckpointFile, line => Log.UnreadableCheckpointLine(_logger, _options.CheckpointFile, line));
        return fromStore.Concat(fromFile).Distinct().OrderBy(c => c.Seq).ToList();
    }

    /// <summary>
    /// Enqueues <paramref name="entry"/> and waits until it is committed. False when it could not be committed within
    /// <paramref name="timeout"/>. An <paramref name="abandonable"/> entry that timed out before the writer took it is
    /// withdrawn and never written (the call it describes will not happen); any other stays queued and is retried.
    /// </summary>
    public async Task<bool> AppendDurableAsync(AuditEntry entry, TimeSpan timeout, bool abandonable, CancellationToken cancellationToken) =>
        await CommitAsync(entry, timeout, abandonable, cancellationToken).ConfigureAwait(false) == AppendResult.Committed;

    /// <summary>
    /// As <see cref="AppendDurableAsync"/>, saying why an entry was not committed: a <c>proxy.request</c> of a key whose
    /// <c>key.revoked</c> / <c>key.expired</c> is already sealed is withdrawn (<see cref="AppendResult.KeyRevoked"/>,
    /// <see cref="AppendResult.KeyExpired"/>) so that no request of a key follows its revocation in the chain.
    /// </summary>
    public Task<AppendResult> CommitAsync(AuditEntry entry, TimeSpan timeout, bool abandonable, CancellationToken cancellationToken) =>
        CommitAsync(entry, null, timeout, abandonable, cancellationToken);

    /// <summary>
    /// As <see cref="CommitAsync(AuditEntry, TimeSpan, bool, CancellationToken)"/>, with a spend claim decided in the same
    /// transaction (a store that <see cref="IAuditChainStore.KeepsSpend"/>): a reservation that is refused withdraws the
    /// entry (<see cref="AppendResult.SpendRefused"/>, the figures in <see cref="SpendClaim.Outcome"/>); one granted for an
    /// entry withdrawn for its key's revocation is given back in the same transaction. Committed means both are.
    /// </summary>
    public async Task<AppendResult> CommitAsync(AuditEntry entry, SpendClaim? spend, TimeSpan timeout, bool abandonable, CancellationToken cancellationToken)
    {
        if (spend is { IsReservation: true } && !abandonable)
        {
            // A retried reservation whose first commit may have happened would be made twice; its call must be refused instead.
            throw new ArgumentException("A reservation rides an abandonable entry (its call is refused if the batch fails).", nameof(abandonable));
        }
        var pending = new Pending(entry, abandonable, durable: true, Claimed(spend));
        var started = _time.GetTimestamp();
        if (!_queue.Writer.TryWrite(pending))
        {
            try
            {
                await _queue.Writer.WriteAsync(pending, cancellationToken).AsTask().WaitAsync(timeout, _time, cancellationToken);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or ChannelClosedException)
            {
                // The write may still land after the time-out: make sure it is then skipped, or waited for.
                return pending.TryAbandon() ? AppendResult.NotCommitted : await pending.Done!.Task;
            }
        }
        try
        {
            var left = timeout - _time.GetElapsedTime(started);
            return await pending.Done!.Task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, _time, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            if (abandonable && pending.TryAbandon())
            {
                return AppendResult.NotCommitted;
            }
            return abandonable ? await pending.Done!.Task : AppendResult.NotCommitted;
        }
    }

    /// <summary>Enqueues without waiting for the commit; waits for room up to <paramref name="timeout"/> (back-pressure).</summary>
    public ValueTask AppendAsync(AuditEntry entry, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        AppendAsync(entry, null, timeout, cancellationToken);

    /// <summary>
    /// As <see cref="AppendAsync(AuditEntry, TimeSpan, CancellationToken)"/>, with a settlement applied in the entry's
    /// transaction (a store that <see cref="IAuditChainStore.KeepsSpend"/>): the entry that states what a call cost
    /// settles it. Retried with the entry; lost only if the entry is (the reservation then stays, never under-counted).
    /// </summary>
    public async ValueTask AppendAsync(AuditEntry entry, SpendClaim? settlement, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (settlement is { IsReservation: true })
        {
            throw new ArgumentException("A reservation is decided with an entry its caller waits for (CommitAsync).", nameof(settlement));
        }
        var pending = new Pending(entry, abandonable: false, durable: false, Claimed(settlement));
        if (_queue.Writer.TryWrite(pending))
        {
            return;
        }
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken).AsTask().WaitAsync(timeout, _time, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or ChannelClosedException)
        {
            if (pending.TryAbandon())
            {
                throw new AuditUnavailableException($"The audit queue stayed full for {timeout.TotalMilliseconds:0} ms.");
            }
        }
    }

    private SpendClaim? Claimed(SpendClaim? claim) => claim is null || _store.KeepsSpend
        ? claim
        : throw new InvalidOperationException("This chain store keeps no spend: its ledger decides reservations itself.");

    /// <summary>
    /// Completes once everything queued before the call has been committed (true) or its batch has failed (false: the
    /// entries that are never withdrawn stay queued and are retried).
    /// </summary>
    public async Task<bool> FlushAsync(CancellationToken cancellationToken)
    {
        var marker = new Pending(null!, abandonable: false, durable: true);
        await _queue.Writer.WriteAsync(marker, cancellationToken).ConfigureAwait(false);
        return await marker.Done!.Task.WaitAsync(cancellationToken).ConfigureAwait(false) == AppendResult.Committed;
    }

    /// <summary>Completes when an entry after <paramref name="seq"/> has been committed.</summary>
    public Task WaitForCommitAfterAsync(long seq, CancellationToken cancellationToken) => _signal.WaitForCommitAfterAsync(seq, cancellationToken);

    private static Task StartThread(string name, Action body)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            try
            {
                body();
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = name }.Start();
        return done.Task;
    }

    private void Run()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(_options.MaxBatch);
        var flushes = new List<Pending>();
        var backoff = TimeSpan.Zero;
        while (true)
        {
            if (_retry.Count == 0 && !reader.TryPeek(out _) && !reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                break;
            }
            batch.Clear();
            batch.AddRange(_retry);
            _retry.Clear();
            var tick = false;
            flushes.Clear();
            while (batch.Count < _options.MaxBatch && reader.TryRead(out var item))
            {
                if (ReferenceEquals(item, Pending.Tick))
                {
                    tick = true;
                }
                else if (item.Entry is null)
                {
                    flushes.Add(item);
                }
                else if (!item.IsAbandoned)
                {
                    batch.Add(item);
                }
            }
            var committed = (batch.Count == 0 && _carried.Count == 0) || Commit(batch);
            foreach (var flush in flushes)
            {
                flush.Complete(committed ? AppendResult.Committed : AppendResult.NotCommitted);
            }
            if (!committed)
            {
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(50) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
                Task.Delay(backoff, _time).GetAwaiter().GetResult();
                continue;
            }
            backoff = TimeSpan.Zero;
            MaybeCheckpoint(tick);
            _store.BetweenBatches();
        }
        MaybeCheckpoint(force: true);
    }

    private bool Commit(List<Pending> batch)
    {
        var started = _time.GetTimestamp();
        var (seq, hash) = (_seq, _hash);
        var boundaries = new List<(long Seq, string Hash)>();
        var sealing = new List<Pending>(batch.Count);
        var withdrawn = new List<(Pending Pending, AppendResult Why)>();
        var giveBack = new List<SpendClaim>();
        var committing = false;
        try
        {
            while (true)
            {
                boundaries.Clear();
                sealing.Clear();
                withdrawn.Clear();
                _sealed.Clear();
                giveBack.Clear();
                using var transaction = _store.Begin(ClaimsOf(_carried, batch));
                (seq, hash) = transaction.Head;
                if (seq != _seq || hash != _hash)
                {
                    _keys.Clear(); // another writer of the same chain appended: its keys' run_seq moved
                }
                foreach (var pending in batch)
                {
                    var entry = pending.Entry;
                    long? runSeq = null;
                    if (entry.KeyId is { } keyId && (entry.IsProxyEntry || IsClosing(entry.Type)))
                    {
                        var state = KeyStateOf(keyId, transaction);
                        if (state.ClosedBy is { } closedBy && entry.Type == AuditTypes.ProxyRequest)
                        {
                            // SPEC §7: sealed after its key's revocation, this entry would disprove it; the call is refused.
                            withdrawn.Add((pending, closedBy == AuditTypes.KeyExpired ? AppendResult.KeyExpired : AppendResult.KeyRevoked));
                            if (pending.Claim is { IsReservation: true, Outcome.Granted: true } granted)
                            {
                                giveBack.Add(granted.Release()); // decided before the key's state was known: undone in the same transaction
                            }
                            continue;
                        }
                        if (pending.Claim is { IsReservation: true } claim && claim.Outcome is not { Granted: true })
                        {
                            // SPEC §5: over the cap (or no day to count it against, or its row held elsewhere): the call is
                            // refused, its entry never written.
                            withdrawn.Add((pending, claim switch
                            {
                                { Busy: true } => AppendResult.SpendBusy,
                                { Outcome: null } => AppendResult.SpendUnknown,
                                _ => AppendResult.SpendRefused,
                            }));
                            continue;
                        }
                        if (entry.IsProxyEntry)
                        {
                            runSeq = ++state.LastRunSeq;
                        }
                        state.ClosedBy ??= IsClosing(entry.Type) ? entry.Type : null;
                        _keys[keyId] = state;
                    }
                    entry = entry with { Seq = ++seq, PrevHash = hash, RunSeq = runSeq };
                    entry = entry with { Hash = AuditHash.Compute(entry) };
                    _sealed.Add(entry);
                    sealing.Add(pending);
                    hash = entry.Hash;
                    if (seq % _options.CheckpointEvery == 0)
                    {
                        boundaries.Add((seq, hash));
                    }
                }
                if (giveBack.Count > 0)
                {
                    transaction.Settle(giveBack);
                }
                transaction.Insert(_sealed); // waits here while another connection holds the write lock
                // Claimed only now, with the write lock held: a caller whose time-out passed while the database was
                // busy has withdrawn its entry, and that entry must not be committed.
                if (sealing.All(p => p.TryClaim()))
                {
                    committing = true;
                    transaction.Commit();
                    AuditMetrics.CommitDuration.Record(_time.GetElapsedTime(started).TotalSeconds);
                    AuditMetrics.EntriesCommitted.Add(sealing.Count);
                    break;
                }
                transaction.Dispose(); // rolls back
                _keys.Clear();
                foreach (var pending in sealing)
                {
                    pending.Unclaim();
                }
                batch.RemoveAll(p => p.IsAbandoned);
                if (batch.Count == 0 && _carried.Count == 0)
                {
                    return true;
                }
            }
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or IOException)
        {
            _keys.Clear(); // some of them were advanced by the rolled-back batch
            _failure = e.Message;
            Log.CommitFailed(_logger, batch.Count, e);
            if (_stopping && _queue.Reader.Completion.IsCompleted)
            {
                // Shutting down with a database that refuses writes: say what is lost rather than spin forever.
                Log.LostAtShutdown(_logger, batch.Count);
                foreach (var pending in batch)
                {
                    pending.Complete(AppendResult.NotCommitted);
                }
                return true;
            }
            if (committing)
            {
                _carried.Clear(); // carried settlements rode the batch whose commit is uncertain (see below)
            }
            foreach (var pending in batch)
            {
                if (pending.Abandonable)
                {
                    pending.TryClaim();
                    pending.Complete(AppendResult.NotCommitted); // its call is refused with 503 and never happens
                }
                else if (!pending.IsAbandoned)
                {
                    pending.Unclaim();
                    if (committing)
                    {
                        // The batch failed in its commit, which may have happened with its answer lost: a settlement
                        // applied twice would count a reservation off twice. The entry is retried; its settlement is
                        // not, so the reservation stays counted at its estimate (fail closed). A batch that failed
                        // before its commit was rolled back: its settlements go again with their entries.
                        pending.DropSettlement();
                    }
                    _retry.Add(pending);
                }
            }
            return false;
        }
        _carried.RemoveAll(c => !c.Busy); // applied (or their row is gone: nothing of them is reserved there)
        foreach (var pending in sealing)
        {
            if (pending.Claim is { IsReservation: false, Busy: true } settlement)
            {
                _carried.Add(settlement); // its entry is committed; the row was held elsewhere, so it was not applied
            }
        }
        Volatile.Write(ref _hash, hash);
        Volatile.Write(ref _seq, seq);
        _dueCheckpoints.AddRange(boundaries);
        if (_failure is not null)
        {
            Log.CommitsResumed(_logger);
            _failure = null;
        }
        foreach (var pending in sealing)
        {
            pending.Complete(AppendResult.Committed);
        }
        foreach (var (pending, why) in withdrawn)
        {
            if (pending.TryClaim())
            {
                pending.Complete(why);
            }
        }
        _signal.Committed(seq);
        return true;
    }

    /// <summary>The settlements carried over, then the batch's spend claims in arrival order (none on a store that keeps no spend).</summary>
    private static List<SpendClaim>? ClaimsOf(List<SpendClaim> carried, List<Pending> batch)
    {
        List<SpendClaim>? claims = carried.Count > 0 ? [.. carried] : null;
        foreach (var pending in batch)
        {
            if (pending.Claim is { } claim)
            {
                (claims ??= []).Add(claim);
            }
        }
        return claims;
    }

    private static bool IsClosing(string type) => type is AuditTypes.KeyRevoked or AuditTypes.KeyExpired;

    private KeyState KeyStateOf(string keyId, IAuditBatch batch)
    {
        if (_keys.TryGetValue(keyId, out var state))
        {
            return state;
        }
        if (_keys.Count >= 100_000)
        {
            _keys.Clear(); // keys are short-lived; the store answers for the ones still in use
        }
        var (lastRunSeq, closedBy) = batch.KeyState(keyId);
        return new KeyState { LastRunSeq = lastRunSeq, ClosedBy = closedBy };
    }

    /// <summary>
    /// Checkpoints at every multiple of CheckpointEvery (seq 1000, 2000, … by default), and at the head when
    /// CheckpointInterval has passed since the last one while entries arrived, and at shutdown. Written on the writer's
    /// own connection (the store's): another connection writing would hold the database lock against the writer.
    /// </summary>
    private void MaybeCheckpoint(bool force)
    {
        var now = _time.GetUtcNow();
        foreach (var (seq, hash) in _dueCheckpoints)
        {
            WriteCheckpoint(seq, hash, now);
        }
        _dueCheckpoints.Clear();
        var lastSeq = _lastCheckpoint?.Seq ?? 0;
        if (_seq > lastSeq && (force || now - _lastCheckpointAt >= _options.CheckpointInterval))
        {
            WriteCheckpoint(_seq, _hash, now);
        }
    }

    private void WriteCheckpoint(long seq, string hash, DateTimeOffset now)
    {
        try
        {
            var checkpoint = Checkpoint.Sign(_signingKey, seq, hash, AuditClock.Format(now));
            _store.InsertCheckpoint(checkpoint);
            // An fsync here slows every write on the file system, the WAL's included, so only when the chain itself
            // is flushed to disk on every commit; otherwise the line is as durable as the chain (it survives a crash of
            // the process).
            CheckpointFile.Append(_options.CheckpointFile, checkpoint, flushToDisk: _options.FlushCheckpointFile);
            _lastCheckpoint = checkpoint; // the writer's thread only
            _lastCheckpointAt = now;
        }
        catch (Exception e) when (e is DbException or IOException or UnauthorizedAccessException or CryptographicException)
        {
            Log.CheckpointFailed(_logger, seq, e); // the next checkpoint covers this seq too
        }
    }

    /// <summary>Stops taking entries, commits everything queued, takes a final checkpoint.</summary>
    public async ValueTask DisposeAsync()
    {
        _ticker?.Dispose();
        _stopping = true;
        _queue.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false); // ends with a last checkpoint
        }
        _store.Dispose();
    }

    private sealed class Pending(AuditEntry entry, bool abandonable, bool durable, SpendClaim? claim = null)
    {
        public static readonly Pending Tick = new(null!, false, false);

        private SpendClaim? _claim = claim;

        /// <summary>A reservation (on a <c>proxy.request</c>) or a settlement decided in the entry's transaction.</summary>
        public SpendClaim? Claim => _claim;

        public void DropSettlement()
        {
            if (_claim is { IsReservation: false })
            {
                _claim = null;
            }
        }

        private int _state; // 0 queued, 1 taken by the writer, 2 withdrawn by its caller

        public AuditEntry Entry => entry;

        public bool Abandonable => abandonable;

        public TaskCompletionSource<AppendResult>? Done { get; } = durable ? new(TaskCreationOptions.RunContinuationsAsynchronously) : null;

        public bool IsAbandoned => Volatile.Read(ref _state) == 2;

        /// <summary>Taken by the writer for a commit (or already taken); false once its caller has withdrawn it.</summary>
        public bool TryClaim() => Interlocked.CompareExchange(ref _state, 1, 0) != 2;

        public bool TryAbandon()
        {
            if (Interlocked.CompareExchange(ref _state, 2, 0) != 0)
            {
                return false;
            }
            Done?.TrySetResult(AppendResult.NotCommitted);
            return true;
        }

        public void Unclaim() => Interlocked.CompareExchange(ref _state, 0, 1);

        public void Complete(AppendResult result) => Done?.TrySetResult(result);
    }

    private struct KeyState
    {
        public long LastRunSeq;
        public string? ClosedBy;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "Audit commit of {Count} entries failed; proxied calls are refused until commits succeed")]
        public static partial void CommitFailed(ILogger logger, int count, Exception exception);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Audit commits succeed again")]
        public static partial void CommitsResumed(ILogger logger);

        [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "Audit checkpoint at seq {Seq} failed; retrying later")]
        public static partial void CheckpointFailed(ILogger logger, long seq, Exception exception);

        [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "{Path} line {Line} is not a checkpoint (a torn write?); skipped")]
        public static partial void UnreadableCheckpointLine(ILogger logger, string path, int line);

        [LoggerMessage(EventId = 5005, Level = LogLevel.Critical, Message = "Shutting down with {Count} audit entries the database refused; they are lost")]
        public static partial void LostAtShutdown(ILogger logger, int count);
    }
}

using System.Data.Common;
using System.Threading.Channels;
using KeyBrake.Audit;
using KeyBrake.Storage;
using Microsoft.Extensions.Options;

namespace KeyBrake.Keys;

/// <summary>
/// SPEC §3: revocation never fails because of the store. <see cref="Submit"/> refuses the key in this process at once
/// (<see cref="RefusedKeys"/>), then this one loop writes the revocation to the store, retrying a busy, locked or full
/// store until it accepts; only then come the key change (caches drop the key) and the <c>key.revoked</c> entries (which wait for
/// the audit log on their own, never holding back the next revocation). The admin call waits for durability only
/// briefly (<see cref="DurableWithin"/>) and otherwise answers 503 <c>revocation_pending</c>: the key stays refused.
/// <para>
/// On a store shared by replicas (SPEC §9) "durable" also takes the <c>key.revoked</c> entries' commit: another replica
/// may still hold the key in its cache, and what refuses its next request is the chain (a <c>proxy.request</c> sealed
/// after its key's <c>key.revoked</c> is withdrawn, SPEC §7). So the call answers 200 only once every replica's next
/// batch is bound to see the revocation.
/// </para>
/// </summary>
internal sealed partial class RevocationWriter(
    IKeyStore store,
    IStoreEngine engine,
    IKeyChangeFeed changes,
    RefusedKeys refused,
    AuditLog audit,
    TimeProvider time,
    IOptions<KeyBrakeOptions> options,
    ILogger<RevocationWriter> logger) : BackgroundService
{
    /// <summary>How long an admin call waits for the store before answering 503 revocation_pending (the key is refused already).</summary>
    public static readonly TimeSpan DurableWithin = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(2);

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>No key outlives this from its creation, so no refusal in memory needs to either.</summary>
    private readonly TimeSpan _maxTtl = options.Value.Keys.MaxTtl;

    /// <summary>
    /// Refuses the key(s) now and queues the store write. The task completes with the keys the store revoked (none when
    /// they were revoked already or do not exist) once the write is durable; it never fails.
    /// </summary>
    public Task<IReadOnlyList<VaultKey>> Submit(KeyRevocation revocation)
    {
        refused.Refuse(revocation, _maxTtl);
        var pending = new Pending(revocation);
        if (!_queue.Writer.TryWrite(pending))
        {
            Log.NotQueuedAtShutdown(logger, revocation.Id ?? revocation.LabelPrefix!);
        }
        return pending.Done.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var pending in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await WriteAsync(pending, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down with the store still refusing: say which revocations only this process enforced.
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var left))
            {
                Log.LostAtShutdown(logger, left.Revocation.Id ?? left.Revocation.LabelPrefix!);
            }
        }
    }

    private async Task WriteAsync(Pending pending, CancellationToken stoppingToken)
    {
        var revocation = pending.Revocation;
        var wait = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var revoked = await store.RevokeAsync(revocation, CancellationToken.None);
                Settle(pending, revoked, attempt, stoppingToken);
                return;
            }
            catch (DbException e)
            {
                if (attempt == 1 || attempt % 20 == 0)
                {
                    Log.StoreRefused(logger, revocation.Id ?? revocation.LabelPrefix!, attempt, e.Message);
                }
            }
            try
            {
                await Task.Delay(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                Log.LostAtShutdown(logger, revocation.Id ?? revocation.LabelPrefix!);
                throw;
            }
            wait = wait * 2 < LongestRetry ? wait * 2 : LongestRetry;
        }
    }

    private void Settle(Pending pending, IReadOnlyList<VaultKey> revoked, int attempt, CancellationToken stoppingToken)
    {
        var revocation = pending.Revocation;
        foreach (var key in revoked)
        {
            changes.Publish(new KeyChange(key.Id, key.TokenHash));
            Log.KeyRevoked(logger, key.Id, key.Label, revocation.By);
        }
        refused.Settle(revocation, revoked, _maxTtl);
        if (attempt > 1)
        {
            Log.StoreAccepted(logger, revocation.Id ?? revocation.LabelPrefix!, attempt);
        }
        Telemetry.KeyBrakeMetrics.Revocations.Add(revoked.Count);
        if (engine.IsShared && revoked.Count > 0)
        {
            _ = RecordThenAnswerAsync(pending, revoked, stoppingToken);
            return;
        }
        pending.Done.TrySetResult(revoked);
        _ = RecordAsync(revoked, revocation, stoppingToken);
    }

    /// <summary>Queues the <c>key.revoked</c> entries, then answers once they are committed (retried while commits fail).</summary>
    private async Task RecordThenAnswerAsync(Pending pending, IReadOnlyList<VaultKey> revoked, CancellationToken stoppingToken)
    {
        try
        {
            await RecordAsync(revoked, pending.Revocation, stoppingToken);
            while (!await audit.Writer.FlushAsync(stoppingToken))
            {
                await Task.Delay(FirstRetry, time, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the entries stay queued for the writer's last batch; the store has the revocation.
        }
        pending.Done.TrySetResult(revoked);
    }

    /// <summary>
    /// The key.revoked entries, after the store has the revocation. Queued, never withdrawn: the writer commits them
    /// whenever the audit log accepts writes; only a queue that stays full makes this wait and try again.
    /// </summary>
    private async Task RecordAsync(IReadOnlyList<VaultKey> revoked, KeyRevocation revocation, CancellationToken stoppingToken)
    {
        var ts = Timestamps.ToText(time.GetUtcNow());
        foreach (var key in revoked)
        {
            var entry = KeyEntries.KeyRevoked(key, revocation.By, revocation.LabelPrefix, ts);
            while (true)
            {
                try
                {
                    await audit.AppendAsync(entry);
                    break;
                }
                catch (AuditUnavailableException e)
                {
                    Log.EntryNotQueued(logger, key.Id, e.Message);
                    if (stoppingToken.IsCancellationRequested)
                    {
                        break;
                    }
                    await Task.Delay(LongestRetry, time, CancellationToken.None);
                }
            }
        }
    }

    private sealed class Pending(KeyRevocation revocation)
    {
        public KeyRevocation Revocation => revocation;

        public TaskCompletionSource<IReadOnlyList<VaultKey>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Key {KeyId} ({Label}) revoked by {Actor}")]
        public static partial void KeyRevoked(ILogger logger, string keyId, string label, string actor);

        [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Revocation of {Target} refused in this process, but the store did not take it (attempt {Attempt}: {Problem}); retrying until it does")]
        public static partial void StoreRefused(ILogger logger, string target, int attempt, string problem);

        [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Revocation of {Target} is durable (attempt {Attempt})")]
        public static partial void StoreAccepted(ILogger logger, string target, int attempt);

        [LoggerMessage(EventId = 2104, Level = LogLevel.Critical, Message = "Shutting down before the store took the revocation of {Target}: revoke it again once the store accepts writes")]
        public static partial void LostAtShutdown(ILogger logger, string target);

        [LoggerMessage(EventId = 2105, Level = LogLevel.Critical, Message = "Shutting down: the revocation of {Target} was not queued; revoke it again once the process is up")]
        public static partial void NotQueuedAtShutdown(ILogger logger, string target);

        [LoggerMessage(EventId = 2106, Level = LogLevel.Error, Message = "The key.revoked entry of key {KeyId} is not queued yet ({Problem}); the key is revoked in the store, and the entry is tried again")]
        public static partial void EntryNotQueued(ILogger logger, string keyId, string problem);
    }
}

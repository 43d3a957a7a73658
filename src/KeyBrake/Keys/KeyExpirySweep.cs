using System.Data.Common;
using KeyBrake.Audit;
using KeyBrake.Storage;

namespace KeyBrake.Keys;

/// <summary>
/// SPEC §3: a <c>key.expired</c> entry (actor <c>system</c>) within one minute of each key's expiry, once per key, and
/// never for a key revoked before it expired. The store records which keys have theirs (a restart does not repeat
/// one), and the chain is asked first for a key whose record was lost between the entry's commit and the store's.
/// </summary>
internal sealed partial class KeyExpirySweep(
    IKeyStore store, RefusedKeys refused, AuditLog audit, IAuditReader reader, TimeProvider time, ILogger<KeyExpirySweep> logger) : BackgroundService
{
    /// <summary>Half the promised minute: an expiry waits at most this long, plus the sweep itself.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private const int Batch = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                try
                {
                    await SweepAsync(stoppingToken);
                }
                catch (DbException e)
                {
                    Log.SweepFailed(logger, e.Message); // the next tick tries again
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Writes the key.expired entries that are due; stops early (and the next tick resumes) when the audit log refuses.</summary>
    internal async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        while (true)
        {
            var due = await store.ListUnrecordedExpiriesAsync(now, Batch, cancellationToken);
            var recorded = 0;
            foreach (var key in due)
            {
                // Revoked in this process before it expired, with the store's write still pending: that write's
                // revoked_at (before expires_at) keeps it out of the next sweep.
                if (refused.Apply(key).RevokedAt is { } revokedAt && revokedAt < key.ExpiresAt)
                {
                    continue;
                }
                if (!await InChainAsync(key.Id, cancellationToken))
                {
                    var entry = KeyEntries.KeyExpired(key, Timestamps.ToText(time.GetUtcNow()));
                    // Withdrawable, so that "not committed" is final and the next sweep cannot write a second one.
                    if (!await audit.Writer.AppendDurableAsync(entry, audit.AdminCommitTimeout, abandonable: true, cancellationToken))
                    {
                        Log.EntryNotWritten(logger, key.Id);
                        return;
                    }
                }
                await store.MarkExpiryRecordedAsync(key.Id, now, cancellationToken);
                recorded++;
            }
            if (due.Count < Batch || recorded == 0)
            {
                return;
            }
        }
    }

    private async Task<bool> InChainAsync(string keyId, CancellationToken cancellationToken)
    {
        var found = await reader.QueryAsync(new AuditFilter { KeyId = keyId, Type = AuditTypes.KeyExpired }, 1, cancellationToken);
        return found.Count > 0;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "The key.expired sweep could not read or update the store ({Problem}); it runs again in 30 s")]
        public static partial void SweepFailed(ILogger logger, string problem);

        [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "The key.expired entry of key {KeyId} could not be written; the sweep tries again in 30 s")]
        public static partial void EntryNotWritten(ILogger logger, string keyId);
    }
}

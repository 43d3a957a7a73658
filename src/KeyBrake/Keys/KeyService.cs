using System.Data.Common;
using KeyBrake.Audit;
using KeyBrake.Policy;
using KeyBrake.Storage;
using Microsoft.Extensions.Options;

namespace KeyBrake.Keys;

/// <summary>Issues, changes and revokes vault keys; every change invalidates the proxy's cached copy.</summary>
internal sealed partial class KeyService(
    IKeyStore store,
    IKeyChangeFeed changes,
    RefusedKeys refused,
    RevocationWriter revocations,
    AuditLog audit,
    IStoreEngine engine,
    IAuditReader chain,
    TimeProvider time,
    IOptions<KeyBrakeOptions> options,
    ILogger<KeyService> logger)
{
    /// <summary>How long a revocation waits to learn whether the key exists before refusing it by id regardless.</summary>
    private static readonly TimeSpan ReadWithin = TimeSpan.FromSeconds(1);

    public TimeSpan MaxTtl { get; } = options.Value.Keys.MaxTtl;

    public TimeSpan DefaultTtl { get; } = options.Value.Keys.DefaultTtl;

    public ICollection<string> Vendors => options.Value.Vendors.Keys;

    public DateTimeOffset Now => time.GetUtcNow();

    public async Task<(VaultKey Key, string Token)> CreateAsync(NewKey spec, string actor, CancellationToken cancellationToken)
    {
        var now = Timestamps.Truncate(time.GetUtcNow());
        var token = VaultToken.NewKeyToken();
        var expiresAt = now + spec.ExpiresIn;
        var key = new VaultKey
        {
            Id = "key_" + Ulid.New(time),
            TokenHash = VaultToken.Hash(token),
            Label = spec.Label,
            Vendor = spec.Vendor,
            Endpoints = spec.Endpoints,
            DailyCapMicros = spec.DailyCap.Value,
            StripeAccounts = spec.StripeAccounts,
            ExpiresAt = expiresAt,
            CreatedAt = now,
            CreatedBy = actor,
            MetadataJson = spec.MetadataJson,
            PolicyHash = PolicyHash.Compute(spec.Vendor, spec.Endpoints.Texts, spec.DailyCap.Value, spec.StripeAccounts, expiresAt),
        };
        // The entry first, withdrawn if it cannot be written in time: no key exists without its key.created.
        if (!await audit.Writer.AppendDurableAsync(KeyEntries.KeyCreated(key, spec, actor, Timestamps.ToText(now)), audit.AdminCommitTimeout, abandonable: true, cancellationToken))
        {
            throw new AuditUnavailableException("The audit log could not record key.created, so no key was issued.");
        }
        await store.InsertAsync(key, cancellationToken);
        Log.KeyCreated(logger, key.Id, key.Label, key.Vendor, actor);
        if (refused.Apply(key) is { RevokedAt: { } at, RevokedBy: { } by } covered)
        {
            // A kill switch for this label came while the key was being created (its created_at is before it, its row
            // was written after the store's update): refused here already, and now revoked in the store and the chain.
            _ = revocations.Submit(new KeyRevocation(key.Id, null, at, by, covered.RevokeReason));
            return (covered, token);
        }
        return (key, token);
    }

    /// <summary>Applies a validated patch; null when the key does not exist or is revoked.</summary>
    public async Task<VaultKey?> UpdateAsync(VaultKey current, KeyPatch patch, string actor, CancellationToken cancellationToken)
    {
        var endpoints = patch.Endpoints ?? current.Endpoints;
        var cap = patch.DailyCap?.Value ?? current.DailyCapMicros;
        var stripeAccounts = patch.StripeAccounts ?? current.StripeAccounts;
        var expiresAt = patch.ExpiresAt ?? current.ExpiresAt;
        var updated = current with
        {
            Endpoints = endpoints,
            DailyCapMicros = cap,
            StripeAccounts = stripeAccounts,
            ExpiresAt = expiresAt,
            PolicyHash = PolicyHash.Compute(current.Vendor, endpoints.Texts, cap, stripeAccounts, expiresAt),
        };
        if (audit.Writer.Failure is { } failure)
        {
            throw new AuditUnavailableException($"The audit log is failing ({failure}); the policy was not changed.");
        }
        if (!await store.UpdatePolicyAsync(updated, cancellationToken))
        {
            return null;
        }
        changes.Publish(new KeyChange(current.Id, current.TokenHash));
        Log.KeyUpdated(logger, current.Id, actor);
        await RecordAsync(KeyEntries.KeyUpdated(current, updated, patch, actor, Timestamps.ToText(time.GetUtcNow())), "the policy change applies");
        return updated;
    }

    /// <summary>The key as this process enforces it: revoked while a revocation of it waits for the store.</summary>
    public VaultKey AsEnforced(VaultKey key) => refused.Apply(key);

    /// <summary>
    /// Revokes one key (SPEC §3): refused in this process at once, then written to the store. A key that is already
    /// revoked is returned unchanged; <see cref="Revocation.NotFound"/> when there is no such key.
    /// </summary>
    public async Task<Revocation> RevokeAsync(string id, string? reason, string actor, CancellationToken cancellationToken)
    {
        VaultKey? current;
        try
        {
            // On its own thread and bounded: SQLite waits on a locked file synchronously, up to its busy time-out.
            current = await Task.Run(() => store.FindByIdAsync(id, cancellationToken), cancellationToken).WaitAsync(ReadWithin, time, cancellationToken);
        }
        catch (Exception e) when (e is DbException or TimeoutException)
        {
            // The store cannot say whether the key exists: refuse the id regardless (fail closed).
            Log.StoreUnreadable(logger, id, e.Message);
            return await RevokeAsync(new KeyRevocation(id, null, Timestamps.Truncate(time.GetUtcNow()), actor, reason), null, cancellationToken);
        }
        if (current is null)
        {
            return Revocation.NotFound;
        }
        if (current.RevokedAt is not null)
        {
            return await AlreadyRevokedAsync(current, cancellationToken);
        }
        return await RevokeAsync(new KeyRevocation(id, null, Timestamps.Truncate(time.GetUtcNow()), actor, reason), current, cancellationToken);
    }

    /// <summary>The kill switch: revokes every key whose label starts with the prefix and is not revoked yet.</summary>
    public Task<Revocation> RevokeByLabelPrefixAsync(string prefix, string? reason, string actor, CancellationToken cancellationToken) =>
        RevokeAsync(new KeyRevocation(null, prefix, Timestamps.Truncate(time.GetUtcNow()), actor, reason), null, cancellationToken);

    /// <summary>Never waits on the audit log, and on the store only for <see cref="RevocationWriter.DurableWithin"/>.</summary>
    private async Task<Revocation> RevokeAsync(KeyRevocation revocation, VaultKey? current, CancellationToken cancellationToken)
    {
        var durable = revocations.Submit(revocation);
        IReadOnlyList<VaultKey> revoked;
        try
        {
            revoked = await durable.WaitAsync(RevocationWriter.DurableWithin, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            Log.RevocationPending(logger, revocation.Id ?? revocation.LabelPrefix!, revocation.By);
            return new Revocation(RevocationState.Pending, current is null ? [] : [refused.Apply(current)]);
        }
        if (revocation.Id is null && revoked.Count == 0 && engine.IsShared)
        {
            // A repeated kill switch (the first answered 503, or another replica's is still waiting): 200 only once
            // every key it covers has its key.revoked in the chain, as for one key below.
            var covered = await store.ListAsync(new KeyQuery(KeyStatus.Revoked, null, revocation.LabelPrefix, 10_000), revocation.At, cancellationToken);
            foreach (var key in covered.Where(k => k.RevokedAt <= revocation.At))
            {
                if ((await AlreadyRevokedAsync(key, cancellationToken)).State == RevocationState.Pending)
                {
                    return new Revocation(RevocationState.Pending, []);
                }
            }
        }
        if (revocation.Id is null || revoked.Count > 0)
        {
            return new Revocation(RevocationState.Durable, revoked);
        }
        // Revoked by someone else meanwhile (returned unchanged), or never existed.
        var now = await store.FindByIdAsync(revocation.Id, cancellationToken);
        return now is null ? Revocation.NotFound : await AlreadyRevokedAsync(now, cancellationToken);
    }

    /// <summary>
    /// A key the store has as revoked already. On a store shared by replicas (SPEC §9) that is not enough for a 200:
    /// the revocation that did it (a first call answered 503 <c>revocation_pending</c>, or another replica's call still
    /// waiting) may not have its <c>key.revoked</c> in the chain yet, and only the chain refuses the key on every
    /// replica. So the call waits, as long as a revocation would, for that entry to be committed.
    /// </summary>
    private async Task<Revocation> AlreadyRevokedAsync(VaultKey key, CancellationToken cancellationToken)
    {
        if (!engine.IsShared)
        {
            return new Revocation(RevocationState.Durable, [key]);
        }
        var started = time.GetTimestamp();
        var filter = new AuditFilter { KeyId = key.Id, Type = AuditTypes.KeyRevoked };
        while ((await chain.QueryAsync(filter, 1, cancellationToken)).Count == 0)
        {
            if (time.GetElapsedTime(started) >= RevocationWriter.DurableWithin)
            {
                Log.RevocationPending(logger, key.Id, "(already revoked in the store; its key.revoked is not committed yet)");
                return new Revocation(RevocationState.Pending, [key]);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken);
        }
        return new Revocation(RevocationState.Durable, [key]);
    }

    private async Task RecordAsync(AuditEntry entry, string applied)
    {
        if (!await audit.AppendDurableAsync(entry, CancellationToken.None))
        {
            throw new AuditUnavailableException($"{char.ToUpperInvariant(applied[0])}{applied[1..]}, but its {entry.Type} entry is not written yet (it stays queued).");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Key {KeyId} ({Label}, {Vendor}) created by {Actor}")]
        public static partial void KeyCreated(ILogger logger, string keyId, string label, string vendor, string actor);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Key {KeyId} policy changed by {Actor}")]
        public static partial void KeyUpdated(ILogger logger, string keyId, string actor);

        [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Revocation of {Target} by {Actor} is enforced in this process but not durable yet: 503 revocation_pending, retried until the store accepts it")]
        public static partial void RevocationPending(ILogger logger, string target, string actor);

        [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Revocation of {KeyId}: the store cannot be read ({Problem}); the id is refused regardless")]
        public static partial void StoreUnreadable(ILogger logger, string keyId, string problem);
    }
}

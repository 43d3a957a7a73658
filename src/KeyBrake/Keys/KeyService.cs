using KeyBrake.Audit;
using KeyBrake.Policy;
using KeyBrake.Storage;
using Microsoft.Extensions.Options;

namespace KeyBrake.Keys;

/// <summary>Issues, changes and revokes vault keys; every change invalidates the proxy's cached copy.</summary>
internal sealed partial class KeyService(
    IKeyStore store, KeyLookup lookup, AuditLog audit, TimeProvider time, IOptions<KeyBrakeOptions> options, ILogger<KeyService> logger)
{
    public TimeSpan MaxTtl { get; } = Duration.ParseConfig(options.Value.Keys.MaxTtl);

    public TimeSpan DefaultTtl { get; } = Duration.ParseConfig(options.Value.Keys.DefaultTtl);

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
            ExpiresAt = expiresAt,
            CreatedAt = now,
            CreatedBy = actor,
            MetadataJson = spec.MetadataJson,
            PolicyHash = PolicyHash.Compute(spec.Vendor, spec.Endpoints.Texts, spec.DailyCap.Value, expiresAt),
        };
        // The entry first, withdrawn if it cannot be written in time: no key exists without its key.created.
        if (!await audit.Writer.AppendDurableAsync(AdminEntries.KeyCreated(key, spec, actor, Timestamps.ToText(now)), audit.AdminCommitTimeout, abandonable: true, cancellationToken))
        {
            throw new AuditUnavailableException("The audit log could not record key.created, so no key was issued.");
        }
        await store.InsertAsync(key, cancellationToken);
        Log.KeyCreated(logger, key.Id, key.Label, key.Vendor, actor);
        return (key, token);
    }

    /// <summary>Applies a validated patch; null when the key does not exist or is revoked.</summary>
    public async Task<VaultKey?> UpdateAsync(VaultKey current, KeyPatch patch, string actor, CancellationToken cancellationToken)
    {
        var endpoints = patch.Endpoints ?? current.Endpoints;
        var cap = patch.DailyCap?.Value ?? current.DailyCapMicros;
        var expiresAt = patch.ExpiresAt ?? current.ExpiresAt;
        var updated = current with
        {
            Endpoints = endpoints,
            DailyCapMicros = cap,
            ExpiresAt = expiresAt,
            PolicyHash = PolicyHash.Compute(current.Vendor, endpoints.Texts, cap, expiresAt),
        };
        if (audit.Writer.Failure is { } failure)
        {
            throw new AuditUnavailableException($"The audit log is failing ({failure}); the policy was not changed.");
        }
        if (!await store.UpdatePolicyAsync(updated, cancellationToken))
        {
            return null;
        }
        lookup.Invalidate(current.TokenHash);
        Log.KeyUpdated(logger, current.Id, actor);
        await RecordAsync(AdminEntries.KeyUpdated(current, updated, patch, actor, Timestamps.ToText(time.GetUtcNow())), "the policy change applies");
        return updated;
    }

    /// <summary>Revokes one key. A key that is already revoked is returned unchanged; null when it does not exist.</summary>
    public async Task<VaultKey?> RevokeAsync(string id, string? reason, string actor, CancellationToken cancellationToken)
    {
        var revoked = await store.RevokeAsync(new KeyRevocation(id, null, Timestamps.Truncate(time.GetUtcNow()), actor, reason), cancellationToken);
        if (revoked.Count == 0)
        {
            return await store.FindByIdAsync(id, cancellationToken);
        }
        await AfterRevokeAsync(revoked, actor, null);
        return revoked[0];
    }

    /// <summary>The kill switch: revokes every key whose label starts with the prefix and is not revoked yet.</summary>
    public async Task<IReadOnlyList<VaultKey>> RevokeByLabelPrefixAsync(string prefix, string? reason, string actor, CancellationToken cancellationToken)
    {
        var revoked = await store.RevokeAsync(new KeyRevocation(null, prefix, Timestamps.Truncate(time.GetUtcNow()), actor, reason), cancellationToken);
        await AfterRevokeAsync(revoked, actor, prefix);
        return revoked;
    }

    /// <summary>Revocation is never held back by the audit log: the keys are revoked first, then their entries written.</summary>
    private async Task AfterRevokeAsync(IReadOnlyList<VaultKey> revoked, string actor, string? labelPrefix)
    {
        foreach (var key in revoked)
        {
            lookup.Invalidate(key.TokenHash);
            Log.KeyRevoked(logger, key.Id, key.Label, actor);
        }
        Telemetry.KeyBrakeMetrics.Revocations.Add(revoked.Count);
        var ts = Timestamps.ToText(time.GetUtcNow());
        var written = await Task.WhenAll(revoked.Select(key =>
            audit.AppendDurableAsync(AdminEntries.KeyRevoked(key, actor, labelPrefix, ts), CancellationToken.None)));
        if (written.Contains(false))
        {
            throw new AuditUnavailableException("The keys are revoked, but their key.revoked entries are not written yet (they stay queued).");
        }
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

        [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Key {KeyId} ({Label}) revoked by {Actor}")]
        public static partial void KeyRevoked(ILogger logger, string keyId, string label, string actor);
    }
}

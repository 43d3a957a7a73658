using KeyBrake.Policy;
using KeyBrake.Storage;
using Microsoft.Extensions.Options;

namespace KeyBrake.Keys;

/// <summary>Issues, changes and revokes vault keys; every change invalidates the proxy's cached copy.</summary>
internal sealed partial class KeyService(
    IKeyStore store, KeyLookup lookup, TimeProvider time, IOptions<KeyBrakeOptions> options, ILogger<KeyService> logger)
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
        if (!await store.UpdatePolicyAsync(updated, cancellationToken))
        {
            return null;
        }
        lookup.Invalidate(current.TokenHash);
        Log.KeyUpdated(logger, current.Id, actor);
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
        AfterRevoke(revoked, actor);
        return revoked[0];
    }

    /// <summary>The kill switch: revokes every key whose label starts with the prefix and is not revoked yet.</summary>
    public async Task<IReadOnlyList<VaultKey>> RevokeByLabelPrefixAsync(string prefix, string? reason, string actor, CancellationToken cancellationToken)
    {
        var revoked = await store.RevokeAsync(new KeyRevocation(null, prefix, Timestamps.Truncate(time.GetUtcNow()), actor, reason), cancellationToken);
        AfterRevoke(revoked, actor);
        return revoked;
    }

    private void AfterRevoke(IReadOnlyList<VaultKey> revoked, string actor)
    {
        foreach (var key in revoked)
        {
            lookup.Invalidate(key.TokenHash);
            Log.KeyRevoked(logger, key.Id, key.Label, actor);
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

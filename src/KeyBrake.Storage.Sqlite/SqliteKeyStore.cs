using System.Text.Json;
using Dapper;
using KeyBrake.Keys;
using KeyBrake.Policy;

namespace KeyBrake.Storage.Sqlite;

internal sealed class SqliteKeyStore(SqliteDatabase database) : IKeyStore
{
    private const string Columns =
        "id, token_hash, label, vendor, allowed_endpoints, daily_cap_micros, stripe_accounts, expires_at, created_at, created_by, metadata, policy_hash, revoked_at, revoked_by, revoke_reason";

    /// <summary>
    /// A revocation waits at most this long for a busy or locked database, then fails and is retried by
    /// the host's revocation writer: the admin call has answered 503 revocation_pending long before the default 10 s.
    /// </summary>
    private const int RevokeCommandTimeoutSeconds = 1;

    public async Task InsertAsync(VaultKey key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO vault_keys ({Columns}) VALUES (@Id, @TokenHash, @Label, @Vendor, @AllowedEndpoints, @DailyCapMicros, @StripeAccounts, @ExpiresAt, @CreatedAt, @CreatedBy, @Metadata, @PolicyHash, @RevokedAt, @RevokedBy, @RevokeReason)",
            KeyRow.From(key), cancellationToken: cancellationToken));
    }

    public Task<VaultKey?> FindByIdAsync(string id, CancellationToken cancellationToken) =>
        FindOneAsync("id = @value", id, cancellationToken);

    public Task<VaultKey?> FindByTokenHashAsync(string tokenHash, CancellationToken cancellationToken) =>
        FindOneAsync("token_hash = @value", tokenHash, cancellationToken);

    public async Task<IReadOnlyList<VaultKey>> ListAsync(KeyQuery query, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        if (query.Status is { } status)
        {
            where.Add(status switch
            {
                KeyStatus.Revoked => "revoked_at IS NOT NULL",
                KeyStatus.Expired => "revoked_at IS NULL AND expires_at <= @now",
                _ => "revoked_at IS NULL AND expires_at > @now",
            });
        }
        if (query.Vendor is not null)
        {
            where.Add("vendor = @vendor");
        }
        if (query.LabelPrefix is not null)
        {
            // substr, not LIKE: case-sensitive and no wildcards in the prefix.
            where.Add("substr(label, 1, length(@prefix)) = @prefix");
        }
        var sql = $"SELECT {Columns} FROM vault_keys {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY id LIMIT @limit";
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<KeyRow>(new CommandDefinition(sql,
            new { now = Timestamps.ToText(now), vendor = query.Vendor, prefix = query.LabelPrefix, limit = query.Limit },
            cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToKey())];
    }

    public async Task<bool> UpdatePolicyAsync(VaultKey updated, CancellationToken cancellationToken)
    {
        var row = KeyRow.From(updated);
        await using var connection = await database.OpenAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE vault_keys SET allowed_endpoints = @AllowedEndpoints, daily_cap_micros = @DailyCapMicros, stripe_accounts = @StripeAccounts, expires_at = @ExpiresAt, policy_hash = @PolicyHash WHERE id = @Id AND revoked_at IS NULL",
            row, cancellationToken: cancellationToken));
        return changed == 1;
    }

    public async Task<IReadOnlyList<VaultKey>> RevokeAsync(KeyRevocation revocation, CancellationToken cancellationToken)
    {
        // By prefix: only keys issued by the time of the kill switch; a run started after it is not part of it.
        var target = revocation.Id is not null ? "id = @id" : "substr(label, 1, length(@prefix)) = @prefix AND created_at <= @at";
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<KeyRow>(new CommandDefinition(
            $"UPDATE vault_keys SET revoked_at = @at, revoked_by = @by, revoke_reason = @reason WHERE {target} AND revoked_at IS NULL RETURNING {Columns}",
            new { id = revocation.Id, prefix = revocation.LabelPrefix, at = Timestamps.ToText(revocation.At), by = revocation.By, reason = revocation.Reason },
            commandTimeout: RevokeCommandTimeoutSeconds, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToKey()).OrderBy(k => k.Id, StringComparer.Ordinal)];
    }

    public async Task<IReadOnlyList<VaultKey>> ListUnrecordedExpiriesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<KeyRow>(new CommandDefinition(
            $"""
            SELECT {Columns} FROM vault_keys
            WHERE expiry_recorded_at IS NULL AND expires_at <= @now AND (revoked_at IS NULL OR revoked_at > expires_at)
            ORDER BY expires_at, id LIMIT @limit
            """,
            new { now = Timestamps.ToText(now), limit }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToKey())];
    }

    public async Task MarkExpiryRecordedAsync(string id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE vault_keys SET expiry_recorded_at = @at WHERE id = @id AND expiry_recorded_at IS NULL",
            new { id, at = Timestamps.ToText(at) }, cancellationToken: cancellationToken));
    }

    private async Task<VaultKey?> FindOneAsync(string condition, string value, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<KeyRow>(new CommandDefinition(
            $"SELECT {Columns} FROM vault_keys WHERE {condition}", new { value }, cancellationToken: cancellationToken));
        return row?.ToKey();
    }

    private sealed class KeyRow
    {
        public string Id { get; set; } = "";
        public string TokenHash { get; set; } = "";
        public string Label { get; set; } = "";
        public string Vendor { get; set; } = "";
        public string AllowedEndpoints { get; set; } = "[]";
        public long DailyCapMicros { get; set; }
        public string StripeAccounts { get; set; } = "[]";
        public string ExpiresAt { get; set; } = "";
        public string CreatedAt { get; set; } = "";
        public string CreatedBy { get; set; } = "";
        public string Metadata { get; set; } = "{}";
        public string PolicyHash { get; set; } = "";
        public string? RevokedAt { get; set; }
        public string? RevokedBy { get; set; }
        public string? RevokeReason { get; set; }

        public static KeyRow From(VaultKey key) => new()
        {
            Id = key.Id,
            TokenHash = key.TokenHash,
            Label = key.Label,
            Vendor = key.Vendor,
            AllowedEndpoints = JsonSerializer.Serialize(key.Endpoints.Texts),
            DailyCapMicros = key.DailyCapMicros,
            StripeAccounts = JsonSerializer.Serialize(key.StripeAccounts),
            ExpiresAt = Timestamps.ToText(key.ExpiresAt),
            CreatedAt = Timestamps.ToText(key.CreatedAt),
            CreatedBy = key.CreatedBy,
            Metadata = key.MetadataJson,
            PolicyHash = key.PolicyHash,
            RevokedAt = key.RevokedAt is { } at ? Timestamps.ToText(at) : null,
            RevokedBy = key.RevokedBy,
            RevokeReason = key.RevokeReason,
        };

        public VaultKey ToKey() => new()
        {
            Id = Id,
            TokenHash = TokenHash,
            Label = Label,
            Vendor = Vendor,
            Endpoints = EndpointPolicy.FromValidated(JsonSerializer.Deserialize<string[]>(AllowedEndpoints) ?? []),
            DailyCapMicros = DailyCapMicros,
            StripeAccounts = JsonSerializer.Deserialize<string[]>(StripeAccounts) ?? [],
            ExpiresAt = Timestamps.Parse(ExpiresAt),
            CreatedAt = Timestamps.Parse(CreatedAt),
            CreatedBy = CreatedBy,
            MetadataJson = Metadata,
            PolicyHash = PolicyHash,
            RevokedAt = Timestamps.ParseOrNull(RevokedAt),
            RevokedBy = RevokedBy,
            RevokeReason = RevokeReason,
        };
    }
}

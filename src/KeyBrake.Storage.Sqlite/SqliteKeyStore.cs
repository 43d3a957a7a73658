using Dapper;
using KeyBrake.Keys;

namespace KeyBrake.Storage.Sqlite;

internal sealed class SqliteKeyStore(SqliteDatabase database) : IKeyStore
{
    private const string Columns = VaultKeyRow.Columns;

    /// <summary>
    /// A revocation waits at most this long for a busy or locked database, then fails and is retried by
    /// the host's revocation writer: the admin call has answered 503 revocation_pending long before the default 10 s.
    /// </summary>
    private const int RevokeCommandTimeoutSeconds = 1;

    public async Task InsertAsync(VaultKey key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO vault_keys ({Columns}) VALUES ({VaultKeyRow.Parameters})",
            VaultKeyRow.From(key), cancellationToken: cancellationToken));
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
        var rows = await connection.QueryAsync<VaultKeyRow>(new CommandDefinition(sql,
            new { now = Timestamps.ToText(now), vendor = query.Vendor, prefix = query.LabelPrefix, limit = query.Limit },
            cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToKey())];
    }

    public async Task<bool> UpdatePolicyAsync(VaultKey updated, CancellationToken cancellationToken)
    {
        var row = VaultKeyRow.From(updated);
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
        var rows = await connection.QueryAsync<VaultKeyRow>(new CommandDefinition(
            $"UPDATE vault_keys SET revoked_at = @at, revoked_by = @by, revoke_reason = @reason WHERE {target} AND revoked_at IS NULL RETURNING {Columns}",
            new { id = revocation.Id, prefix = revocation.LabelPrefix, at = Timestamps.ToText(revocation.At), by = revocation.By, reason = revocation.Reason },
            commandTimeout: RevokeCommandTimeoutSeconds, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToKey()).OrderBy(k => k.Id, StringComparer.Ordinal)];
    }

    public async Task<IReadOnlyList<VaultKey>> ListUnrecordedExpiriesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<VaultKeyRow>(new CommandDefinition(
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
        var row = await connection.QuerySingleOrDefaultAsync<VaultKeyRow>(new CommandDefinition(
            $"SELECT {Columns} FROM vault_keys WHERE {condition}", new { value }, cancellationToken: cancellationToken));
        return row?.ToKey();
    }
}

using Dapper;
using KeyBrake.Keys;
using Npgsql;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// Vault keys in the shared database, the same rows as SQLite's (<see cref="VaultKeyRow"/>). Orderings say
/// <c>COLLATE "C"</c> so they are byte order whatever the database's locale, as on SQLite; label prefixes are matched
/// literally and case-sensitively (SPEC §3).
/// </summary>
internal sealed class PostgresKeyStore(PostgresDatabase database) : IKeyStore
{
    private const string Columns = VaultKeyRow.Columns;

    /// <summary>
    /// How long a revocation waits for a row another transaction holds, then fails, so the host's revocation writer
    /// retries (the admin call answers 503 revocation_pending meanwhile, SPEC §3). The statement's own ceiling is a
    /// little longer; the command's time-out in seconds is the backstop if the server does not answer at all.
    /// </summary>
    private const string RevokeTimeouts = "SELECT set_config('lock_timeout', '1000', true), set_config('statement_timeout', '1500', true)";

    private const int RevokeCommandTimeoutSeconds = 2;

    public async Task InsertAsync(VaultKey key, CancellationToken cancellationToken)
    {
        // A duplicate id or token hash fails with a unique violation (a DbException), as on SQLite.
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            $"INSERT INTO vault_keys ({Columns}) VALUES ({VaultKeyRow.Parameters})", VaultKeyRow.From(key), cancellationToken: cancellationToken));
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
            where.Add(PostgresLike.LabelStartsWith);
        }
        var sql = $"SELECT {Columns} FROM vault_keys {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY id COLLATE \"C\" LIMIT @limit";
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<VaultKeyRow>(new CommandDefinition(sql,
            new { now = Timestamps.ToText(now), vendor = query.Vendor, pattern = PostgresLike.Prefix(query.LabelPrefix), limit = query.Limit },
            cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToKey())];
    }

    public async Task<bool> UpdatePolicyAsync(VaultKey updated, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE vault_keys SET allowed_endpoints = @AllowedEndpoints, daily_cap_micros = @DailyCapMicros, stripe_accounts = @StripeAccounts, expires_at = @ExpiresAt, policy_hash = @PolicyHash WHERE id = @Id AND revoked_at IS NULL",
            VaultKeyRow.From(updated), cancellationToken: cancellationToken));
        return changed == 1;
    }

    /// <summary>
    /// One statement per revocation: the row lock makes exactly one of racing revocations (on any replica) get the key
    /// back. By prefix, only keys issued by the time of the kill switch. The time-outs are set for this transaction
    /// only, in the same round trip (one batch is one implicit transaction).
    /// </summary>
    public async Task<IReadOnlyList<VaultKey>> RevokeAsync(KeyRevocation revocation, CancellationToken cancellationToken)
    {
        var target = revocation.Id is not null ? "id = @id" : PostgresLike.LabelStartsWith + " AND created_at <= @at";
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var results = await connection.QueryMultipleAsync(new CommandDefinition(
            $"{RevokeTimeouts}; UPDATE vault_keys SET revoked_at = @at, revoked_by = @by, revoke_reason = @reason WHERE {target} AND revoked_at IS NULL RETURNING {Columns}",
            new { id = revocation.Id, pattern = PostgresLike.Prefix(revocation.LabelPrefix), at = Timestamps.ToText(revocation.At), by = revocation.By, reason = revocation.Reason },
            commandTimeout: RevokeCommandTimeoutSeconds, cancellationToken: cancellationToken));
        await results.ReadAsync(); // the time-outs
        var rows = await results.ReadAsync<VaultKeyRow>();
        return [.. rows.Select(r => r.ToKey()).OrderBy(k => k.Id, StringComparer.Ordinal)];
    }

    public async Task<IReadOnlyList<VaultKey>> ListUnrecordedExpiriesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<VaultKeyRow>(new CommandDefinition(
            $"""
            SELECT {Columns} FROM vault_keys
            WHERE expiry_recorded_at IS NULL AND expires_at <= @now AND (revoked_at IS NULL OR revoked_at > expires_at)
            ORDER BY expires_at COLLATE "C", id COLLATE "C" LIMIT @limit
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

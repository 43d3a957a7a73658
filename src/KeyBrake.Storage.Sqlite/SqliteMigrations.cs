namespace KeyBrake.Storage.Sqlite;

/// <summary>Numbered, append-only. Never edit a migration that has shipped; add the next number.</summary>
internal static class SqliteMigrations
{
    public static readonly IReadOnlyList<(long Version, string Sql)> All =
    [
        (1, """
            CREATE TABLE principals (
                name        TEXT PRIMARY KEY,
                token_hash  TEXT NOT NULL UNIQUE,
                roles       TEXT NOT NULL,
                created_at  TEXT NOT NULL,
                created_by  TEXT NOT NULL,
                disabled_at TEXT NULL
            );
            CREATE TABLE vault_keys (
                id                TEXT PRIMARY KEY,
                token_hash        TEXT NOT NULL UNIQUE,
                label             TEXT NOT NULL,
                vendor            TEXT NOT NULL,
                allowed_endpoints TEXT NOT NULL,
                daily_cap_micros  INTEGER NOT NULL,
                expires_at        TEXT NOT NULL,
                created_at        TEXT NOT NULL,
                created_by        TEXT NOT NULL,
                metadata          TEXT NOT NULL,
                policy_hash       TEXT NOT NULL,
                revoked_at        TEXT NULL,
                revoked_by        TEXT NULL,
                revoke_reason     TEXT NULL
            );
            CREATE INDEX ix_vault_keys_label ON vault_keys (label);
            """),
        (2, SqliteAuditSchema.V1),
        // SPEC v2 §3: stripe_accounts (a JSON array of acct_… ids, [] = none), and the key.expired sweep's record of
        // the keys whose key.expired it wrote (so a restart never writes one twice). Keys that expired before this
        // migration predate the sweep: marked as done, rather than given a key.expired long after the fact.
        (3, """
            ALTER TABLE vault_keys ADD COLUMN stripe_accounts TEXT NOT NULL DEFAULT '[]';
            ALTER TABLE vault_keys ADD COLUMN expiry_recorded_at TEXT NULL;
            UPDATE vault_keys SET expiry_recorded_at = expires_at WHERE expires_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
            CREATE INDEX ix_vault_keys_expiry_sweep ON vault_keys (expires_at) WHERE expiry_recorded_at IS NULL;
            """),
    ];
}

namespace KeyBrake.Storage.Sqlite;

/// <summary>
/// The audit tables. The numbered migration list applies <see cref="V1"/>; the chain store applies it too when it
/// opens a bare database (a tool, a benchmark). Never edit a shipped version.
/// </summary>
internal static class SqliteAuditSchema
{
    public const string V1 = """
        CREATE TABLE IF NOT EXISTS audit_entries (
            seq               INTEGER PRIMARY KEY,
            ts                TEXT NOT NULL,
            type              TEXT NOT NULL,
            request_id        TEXT NULL,
            key_id            TEXT NULL,
            label             TEXT NULL,
            run_seq           INTEGER NULL,
            actor             TEXT NULL,
            vendor            TEXT NULL,
            method            TEXT NULL,
            path              TEXT NULL,
            cost_usd_micros   INTEGER NULL,
            decision          TEXT NULL,
            outcome           TEXT NULL,
            http_status       INTEGER NULL,
            vendor_request_id TEXT NULL,
            reason            TEXT NULL,
            policy_hash       TEXT NULL,
            details           TEXT NULL,
            prev_hash         TEXT NOT NULL,
            hash              TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_audit_key_id ON audit_entries (key_id, seq) WHERE key_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_audit_label ON audit_entries (label, seq) WHERE label IS NOT NULL;
        CREATE INDEX IF NOT EXISTS ix_audit_ts ON audit_entries (ts);
        CREATE TABLE IF NOT EXISTS audit_checkpoints (
            seq       INTEGER PRIMARY KEY,
            hash      TEXT NOT NULL,
            ts        TEXT NOT NULL,
            signature TEXT NOT NULL
        );
        -- Append-only from KeyBrake's side. Someone with the file can drop these; the chain and the checkpoints
        -- outside the database are what detect that.
        CREATE TRIGGER IF NOT EXISTS audit_entries_no_update BEFORE UPDATE ON audit_entries
            BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_entries_no_delete BEFORE DELETE ON audit_entries
            BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
        """;
}

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// Numbered, append-only. Never edit a migration that has shipped; add the next number. Timestamps are the contract's
/// text form (<see cref="Timestamps"/>), as on SQLite, so both engines store, sort and copy the same values; the audit
/// entries' fields are stored exactly as hashed (details as text, not jsonb, which would reorder them).
/// </summary>
internal static class PostgresMigrations
{
    public static readonly IReadOnlyList<(long Version, string Sql)> All =
    [
        (1, """
            CREATE TABLE principals (
                name        text PRIMARY KEY,
                token_hash  text NOT NULL UNIQUE,
                roles       text NOT NULL,
                created_at  text NOT NULL,
                created_by  text NOT NULL,
                disabled_at text NULL
            );
            CREATE TABLE vault_keys (
                id                 text PRIMARY KEY,
                token_hash         text NOT NULL UNIQUE,
                label              text NOT NULL,
                vendor             text NOT NULL,
                allowed_endpoints  text NOT NULL,
                daily_cap_micros   bigint NOT NULL,
                expires_at         text NOT NULL,
                created_at         text NOT NULL,
                created_by         text NOT NULL,
                metadata           text NOT NULL,
                policy_hash        text NOT NULL,
                revoked_at         text NULL,
                revoked_by         text NULL,
                revoke_reason      text NULL,
                stripe_accounts    text NOT NULL DEFAULT '[]',
                expiry_recorded_at text NULL
            );
            CREATE INDEX ix_vault_keys_label ON vault_keys (label text_pattern_ops);
            CREATE INDEX ix_vault_keys_expiry_sweep ON vault_keys (expires_at) WHERE expiry_recorded_at IS NULL;

            CREATE TABLE audit_entries (
                seq               bigint PRIMARY KEY,
                ts                text NOT NULL,
                type              text NOT NULL,
                request_id        text NULL,
                key_id            text NULL,
                label             text NULL,
                run_seq           bigint NULL,
                actor             text NULL,
                vendor            text NULL,
                method            text NULL,
                path              text NULL,
                cost_usd_micros   bigint NULL,
                decision          text NULL,
                outcome           text NULL,
                http_status       integer NULL,
                vendor_request_id text NULL,
                reason            text NULL,
                policy_hash       text NULL,
                details           text NULL,
                prev_hash         text NOT NULL,
                hash              text NOT NULL
            );
            CREATE INDEX ix_audit_key_id ON audit_entries (key_id, seq) WHERE key_id IS NOT NULL;
            CREATE INDEX ix_audit_label ON audit_entries (label text_pattern_ops, seq) WHERE label IS NOT NULL;
            CREATE INDEX ix_audit_ts ON audit_entries (ts);
            CREATE INDEX ix_audit_key_closed ON audit_entries (key_id, seq) WHERE type IN ('key.revoked', 'key.expired');
            CREATE TABLE audit_checkpoints (
                seq       bigint PRIMARY KEY,
                hash      text NOT NULL,
                ts        text NOT NULL,
                signature text NOT NULL
            );
            -- Append-only from KeyBrake's side. The database's owner can drop these; the chain and the checkpoints
            -- outside the database are what detect that.
            CREATE FUNCTION keybrake_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit entries are append-only';
            END $$;
            CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
                FOR EACH ROW EXECUTE FUNCTION keybrake_append_only();
            CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
                FOR EACH STATEMENT EXECUTE FUNCTION keybrake_append_only();

            -- Today's spend per key (UTC day), shared by every replica: one conditional UPDATE per reservation.
            CREATE TABLE spend_days (
                key_id          text NOT NULL,
                day             date NOT NULL,
                spent_micros    bigint NOT NULL,
                reserved_micros bigint NOT NULL,
                PRIMARY KEY (key_id, day)
            );

            -- The dashboard's Data Protection key ring, shared so that sign-in works on every replica.
            CREATE TABLE dataprotection_keys (
                friendly_name text PRIMARY KEY,
                xml           text NOT NULL
            );
            """),
        // The spend ledger's batch in one round trip (PostgresSpendLedger): the rows locked in key order, each operation
        // decided in arrival order against the figures the one before it left, each row written once.
        (2, """
            CREATE FUNCTION keybrake_spend_apply(p_keys text[], p_days date[], p_estimates bigint[], p_caps bigint[], p_counted bigint[])
            RETURNS TABLE (ord bigint, granted boolean, spent bigint, reserved bigint)
            LANGUAGE plpgsql AS $fn$
            DECLARE
                op record;
                cur_key text := NULL;
                cur_day date := NULL;
                cur_found boolean := false;
                cur_spent bigint;
                cur_reserved bigint;
                dirty boolean := false;
            BEGIN
                FOR op IN SELECT o.k, o.d, o.e, o.c, o.s, o.i
                          FROM unnest(p_keys, p_days, p_estimates, p_caps, p_counted) WITH ORDINALITY AS o (k, d, e, c, s, i)
                          ORDER BY o.k, o.d, o.i LOOP
                    IF cur_key IS DISTINCT FROM op.k OR cur_day IS DISTINCT FROM op.d THEN
                        IF dirty THEN
                            UPDATE spend_days SET spent_micros = cur_spent, reserved_micros = cur_reserved WHERE key_id = cur_key AND day = cur_day;
                        END IF;
                        cur_key := op.k;
                        cur_day := op.d;
                        dirty := false;
                        SELECT s.spent_micros, s.reserved_micros INTO cur_spent, cur_reserved
                        FROM spend_days AS s WHERE s.key_id = op.k AND s.day = op.d FOR UPDATE;
                        cur_found := FOUND;
                    END IF;
                    ord := op.i;
                    IF NOT cur_found THEN
                        -- The key's day has no row yet: nothing decided (granted NULL), the caller opens the day.
                        granted := NULL; spent := NULL; reserved := NULL;
                    ELSIF op.c IS NOT NULL AND cur_spent + cur_reserved + op.e > op.c THEN
                        granted := false; spent := cur_spent; reserved := cur_reserved;
                    ELSE
                        IF op.c IS NOT NULL THEN
                            cur_reserved := cur_reserved + op.e;
                        ELSE
                            cur_reserved := cur_reserved - op.e;
                            cur_spent := cur_spent + op.s;
                        END IF;
                        dirty := true;
                        granted := true; spent := cur_spent; reserved := cur_reserved;
                    END IF;
                    RETURN NEXT;
                END LOOP;
                IF dirty THEN
                    UPDATE spend_days SET spent_micros = cur_spent, reserved_micros = cur_reserved WHERE key_id = cur_key AND day = cur_day;
                END IF;
            END
            $fn$;
            """),
        // The chain's batches decide spend claims with this one (PostgresAuditChainStore.Begin): as keybrake_spend_apply,
        // but a row locked by another session is skipped, not waited for, and its claims come back busy (the call is
        // refused 503, a settlement goes with the next batch). The chain lock is held meanwhile, so a row held outside
        // KeyBrake must not hold up every replica's chain; inside KeyBrake only the chain's batches lock these rows.
        (3, """
            CREATE FUNCTION keybrake_spend_decide(p_keys text[], p_days date[], p_estimates bigint[], p_caps bigint[], p_counted bigint[])
            RETURNS TABLE (ord bigint, granted boolean, spent bigint, reserved bigint, busy boolean)
            LANGUAGE plpgsql AS $fn$
            DECLARE
                op record;
                cur_key text := NULL;
                cur_day date := NULL;
                cur_found boolean := false;
                cur_busy boolean := false;
                cur_spent bigint;
                cur_reserved bigint;
                dirty boolean := false;
            BEGIN
                FOR op IN SELECT o.k, o.d, o.e, o.c, o.s, o.i
                          FROM unnest(p_keys, p_days, p_estimates, p_caps, p_counted) WITH ORDINALITY AS o (k, d, e, c, s, i)
                          ORDER BY o.k, o.d, o.i LOOP
                    IF cur_key IS DISTINCT FROM op.k OR cur_day IS DISTINCT FROM op.d THEN
                        IF dirty THEN
                            UPDATE spend_days SET spent_micros = cur_spent, reserved_micros = cur_reserved WHERE key_id = cur_key AND day = cur_day;
                        END IF;
                        cur_key := op.k;
                        cur_day := op.d;
                        dirty := false;
                        SELECT s.spent_micros, s.reserved_micros INTO cur_spent, cur_reserved
                        FROM spend_days AS s WHERE s.key_id = op.k AND s.day = op.d FOR UPDATE SKIP LOCKED;
                        cur_found := FOUND;
                        cur_busy := NOT cur_found AND EXISTS (SELECT 1 FROM spend_days AS s WHERE s.key_id = op.k AND s.day = op.d);
                    END IF;
                    ord := op.i;
                    busy := cur_busy;
                    IF NOT cur_found THEN
                        -- No row (the caller opens the day), or a row another session holds: nothing decided.
                        granted := NULL; spent := NULL; reserved := NULL;
                    ELSIF op.c IS NOT NULL AND cur_spent + cur_reserved + op.e > op.c THEN
                        granted := false; spent := cur_spent; reserved := cur_reserved;
                    ELSE
                        IF op.c IS NOT NULL THEN
                            cur_reserved := cur_reserved + op.e;
                        ELSE
                            cur_reserved := cur_reserved - op.e;
                            cur_spent := cur_spent + op.s;
                        END IF;
                        dirty := true;
                        granted := true; spent := cur_spent; reserved := cur_reserved;
                    END IF;
                    RETURN NEXT;
                END LOOP;
                IF dirty THEN
                    UPDATE spend_days SET spent_micros = cur_spent, reserved_micros = cur_reserved WHERE key_id = cur_key AND day = cur_day;
                END IF;
            END
            $fn$;
            """),
    ];
}

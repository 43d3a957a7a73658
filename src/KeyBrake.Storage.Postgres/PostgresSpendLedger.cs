using KeyBrake.Spend;
using Npgsql;
using NpgsqlTypes;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// Today's spend per key (UTC day) in the shared table <c>spend_days</c>, so caps hold exactly whichever replica serves
/// each call (SPEC §9: "concurrent calls spread over replicas never overshoot a cap"). A reservation is one conditional
/// UPDATE: the row lock orders racing reservations from every replica, and each re-checks the cap against the row as
/// the one before it left it. One round trip per reservation, settlement or release.
/// <para>
/// A day's row is made by the first reservation of the key that day (on any replica). Its spent amount starts at what
/// the audit log records for the day (<see cref="ISpendHistory"/>), so a deployment copied from SQLite mid-day stays
/// exact. That read cannot race with this ledger: every reservation of the day lives on the row, so while the row is
/// missing no replica has reserved anything for it; the entries the read counts came from before (a copied chain). Of
/// two replicas that read and insert at once, the first insert stands and the other's is ignored (ON CONFLICT DO
/// NOTHING). The one overlap is a call reserved just before midnight whose entry is stamped after it: the new day may
/// count it too (the cap then holds with room to spare, never overshoots).
/// </para>
/// <para>
/// Guardrails (SPEC §10, the next issue) go on this same path: the per-call ceiling is a check before any SQL; a
/// rate-limit window and a single-use approval are further conditional statements (<c>UPDATE … WHERE used_at IS NULL
/// RETURNING</c>, <c>UPDATE … WHERE count &lt; @rpm RETURNING</c>) in the batch of <see cref="ReserveAsync"/>, run in
/// one explicit transaction so that a refusal by any of them rolls back the others.
/// </para>
/// Database errors propagate (<see cref="System.Data.Common.DbException"/>): the host answers 503, nothing is forwarded.
/// </summary>
internal sealed class PostgresSpendLedger(PostgresDatabase database, ISpendHistory history, TimeProvider time) : ISpendLedger
{
    private const string Reserve =
        "UPDATE spend_days SET reserved_micros = reserved_micros + $3 WHERE key_id = $1 AND day = $2 AND spent_micros + reserved_micros + $3 <= $4 RETURNING spent_micros, reserved_micros";

    /// <summary>After a refused reservation, in the same round trip but its own snapshot: the figures as they stand.</summary>
    private const string Figures = "SELECT spent_micros, reserved_micros FROM spend_days WHERE key_id = $1 AND day = $2";

    private const string Open = "INSERT INTO spend_days (key_id, day, spent_micros, reserved_micros) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING";

    private const string Settle =
        "UPDATE spend_days SET reserved_micros = reserved_micros - $3, spent_micros = spent_micros + $4 WHERE key_id = $1 AND day = $2";

    public async ValueTask<LedgerReservation> ReserveAsync(string keyId, long capMicros, MicroUsd estimate, CancellationToken cancellationToken)
    {
        var day = Today();
        var (granted, figures) = await OnDayAsync(keyId, day, (estimate.Value, capMicros), cancellationToken);
        return new LedgerReservation(keyId, day, estimate, granted, figures);
    }

    /// <summary>On the reservation's own day, also after midnight: it counted against that day.</summary>
    public async ValueTask SettleAsync(LedgerReservation reservation, MicroUsd counted, CancellationToken cancellationToken)
    {
        if (!reservation.Granted)
        {
            return;
        }
        await using var connection = await database.LedgerSource.OpenConnectionAsync(cancellationToken);
        await using var settle = new NpgsqlCommand(Settle, connection);
        Add(settle.Parameters, reservation.KeyId, reservation.Day, reservation.Estimate.Value, counted.Value);
        await settle.ExecuteNonQueryAsync(cancellationToken);
    }

    public ValueTask ReleaseAsync(LedgerReservation reservation, CancellationToken cancellationToken) =>
        SettleAsync(reservation, default, cancellationToken);

    public async ValueTask<LedgerFigures> TodayAsync(string keyId, CancellationToken cancellationToken) =>
        (await OnDayAsync(keyId, Today(), reservation: null, cancellationToken)).Figures;

    /// <summary>
    /// One round trip: the reservation if any (granted: its figures), then the day's figures (refused: as they stand,
    /// read after the UPDATE). A day without its row yet is opened from the chain and the batch runs again.
    /// </summary>
    private async Task<(bool Granted, LedgerFigures Figures)> OnDayAsync(string keyId, DateOnly day, (long Estimate, long Cap)? reservation, CancellationToken cancellationToken)
    {
        long? opening = null;
        while (true)
        {
            if (await TryOnDayAsync(keyId, day, reservation, opening, cancellationToken) is { } done)
            {
                return done;
            }
            // No row yet for this key and day: the first call of the day opens it. Read with the batch's connection back
            // in the pool: a caller holding one while it waits for another would starve the pool under a burst.
            opening = await history.SpentOnAsync(keyId, day, cancellationToken);
        }
    }

    /// <summary>One round trip on one pooled connection; null when the day's row does not exist yet.</summary>
    private async Task<(bool Granted, LedgerFigures Figures)?> TryOnDayAsync(string keyId, DateOnly day, (long Estimate, long Cap)? reservation,
        long? opening, CancellationToken cancellationToken)
    {
        while (true)
        {
            await using var connection = await database.LedgerSource.OpenConnectionAsync(cancellationToken);
            await using var batch = new NpgsqlBatch(connection);
            if (opening is { } spent)
            {
                batch.BatchCommands.Add(Command(Open, keyId, day, spent)); // no result set: the reader skips it
            }
            if (reservation is var (estimate, cap))
            {
                batch.BatchCommands.Add(Command(Reserve, keyId, day, estimate, cap));
            }
            batch.BatchCommands.Add(Command(Figures, keyId, day));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            if (reservation is not null)
            {
                if (await ReadFiguresAsync(reader, cancellationToken) is { } granted)
                {
                    return (true, granted);
                }
                await reader.NextResultAsync(cancellationToken);
            }
            if (await ReadFiguresAsync(reader, cancellationToken) is not { } figures)
            {
                return null;
            }
            if (reservation is var (e, c) && figures.SpentMicros + figures.ReservedMicros + e <= c)
            {
                // The UPDATE did not see the row (another replica opened the day after its snapshot), or a settlement
                // made room since: not a refusal, the figures say so. Try again.
                opening = null;
                continue;
            }
            return (false, figures);
        }
    }

    private static async Task<LedgerFigures?> ReadFiguresAsync(NpgsqlDataReader reader, CancellationToken cancellationToken) =>
        await reader.ReadAsync(cancellationToken) ? new LedgerFigures(reader.GetInt64(0), reader.GetInt64(1)) : null;

    private static NpgsqlBatchCommand Command(string sql, string keyId, DateOnly day, params long[] amounts)
    {
        var command = new NpgsqlBatchCommand(sql);
        Add(command.Parameters, keyId, day, amounts);
        return command;
    }

    private static void Add(NpgsqlParameterCollection parameters, string keyId, DateOnly day, params long[] amounts)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = keyId, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = day, NpgsqlDbType = NpgsqlDbType.Date });
        foreach (var amount in amounts)
        {
            parameters.Add(new NpgsqlParameter<long> { TypedValue = amount, NpgsqlDbType = NpgsqlDbType.Bigint });
        }
    }

    private DateOnly Today() => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
}

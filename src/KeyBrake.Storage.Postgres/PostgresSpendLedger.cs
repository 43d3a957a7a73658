using KeyBrake.Audit;
using KeyBrake.Spend;
using Npgsql;
using NpgsqlTypes;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// Today's spend per key (UTC day) in the shared table <c>spend_days</c>, so caps hold exactly whichever replica serves
/// each call (SPEC §9: "concurrent calls spread over replicas never overshoot a cap").
/// <para>
/// A proxied call's reservation is decided in the audit chain's batch (<see cref="PrepareAsync"/>): the writer sends it
/// with the call's <c>proxy.request</c>, the store decides it under the chain lock and the key row's lock
/// (<c>keybrake_spend_decide</c>, migration 3: rows locked in key order, a row held by a session outside KeyBrake skipped,
/// claims decided in arrival order, each row written once), a refusal withdraws the entry, and one commit makes both
/// durable. The entry that states the call's cost
/// (<c>proxy.response</c>, or the <c>proxy.denied</c> of a call refused after its reservation) settles it in its own
/// batch. Every replica's batches take the one chain lock, so reservations are decided one batch after another across
/// replicas. The ledger has no loop, no connection and no commit of its own on the proxy's path (measured in the README).
/// </para>
/// <para>
/// A day's row is made by the first reservation of the key that day (on any replica); this replica remembers the days
/// it opened (<see cref="PostgresSpendDays"/>). Its spent amount starts at what the audit log records for the day
/// (<see cref="ISpendHistory"/>), so a deployment copied from SQLite mid-day stays exact. That read cannot race with the
/// ledger: every reservation of the day lives on the row, so while the row is missing no replica has reserved anything
/// for it; the entries the read counts came from before (a copied chain). Of two replicas that read and insert at once,
/// the first insert stands and the other's is ignored (ON CONFLICT DO NOTHING). The one overlap is a call reserved just
/// before midnight whose entry is stamped after it: the new day may count it too (the cap then holds with room to spare,
/// never overshoots).
/// </para>
/// <para>
/// <see cref="ReserveAsync"/>, <see cref="SettleAsync"/> and <see cref="ReleaseAsync"/> (the port's contract, for a
/// caller without an entry) decide one claim in a statement of their own on the ledger's pool, under the same row lock
/// (<c>keybrake_spend_apply</c>, migration 2, which waits for a held row up to the pool's lock time-out).
/// Guardrails (SPEC §10, the next issue) go on the chain's path: the per-call ceiling is a check before any SQL; a
/// rate-limit window and a single-use approval are further rows locked and decided in the same batch transaction.
/// </para>
/// Database errors propagate (<see cref="System.Data.Common.DbException"/>): a reservation's call is answered 503 and
/// nothing is forwarded; a settlement that fails keeps its reservation.
/// </summary>
internal sealed class PostgresSpendLedger(PostgresDatabase database, ISpendHistory history, PostgresSpendDays days, TimeProvider time) : ISpendLedger
{
    /// <summary>
    /// How often a reservation goes again after opening its key's day. The row is inserted ON CONFLICT DO NOTHING and
    /// never deleted, so one open is enough; a row that is still missing after this many (dropped by something outside
    /// KeyBrake) fails the reservation, closed (<see cref="SpendUnavailableException"/>).
    /// </summary>
    private const int MaxDayOpens = 3;

    private const string Figures = "SELECT spent_micros, reserved_micros FROM spend_days WHERE key_id = $1 AND day = $2";

    private const string Open = "INSERT INTO spend_days (key_id, day, spent_micros, reserved_micros) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING";

    /// <summary>One delegate for the ledger's life: every proxied call passes it (a method group would allocate one per call).</summary>
    private Func<string, DateOnly, Task>? _openDay;

    /// <summary>The key's day is opened (once per replica and day); the reservation itself rides the call's <c>proxy.request</c>.</summary>
    public async ValueTask<LedgerReservation?> PrepareAsync(string keyId, MicroUsd estimate, CancellationToken cancellationToken)
    {
        var day = Today();
        await days.OpenAsync(keyId, day, _openDay ??= OpenDayAsync);
        return new LedgerReservation(keyId, day, estimate, Granted: false, default, InChain: true);
    }

    public async ValueTask<LedgerReservation> ReserveAsync(string keyId, long capMicros, MicroUsd estimate, CancellationToken cancellationToken)
    {
        var day = Today();
        for (var opens = 0; opens < MaxDayOpens; opens++)
        {
            await days.OpenAsync(keyId, day, _openDay ??= OpenDayAsync);
            var claim = SpendClaim.Reserve(keyId, day, estimate.Value, capMicros);
            await ApplyAsync(claim, cancellationToken);
            if (claim.Outcome is { } outcome)
            {
                return new LedgerReservation(keyId, day, estimate, outcome.Granted, new LedgerFigures(outcome.SpentMicros, outcome.ReservedMicros));
            }
            days.Forget(keyId, day);
        }
        throw DayNotOpened(keyId, day);
    }

    /// <summary>On the reservation's own day, also after midnight: it counted against that day.</summary>
    public async ValueTask SettleAsync(LedgerReservation reservation, MicroUsd counted, CancellationToken cancellationToken)
    {
        if (reservation.Granted)
        {
            await ApplyAsync(reservation.Settlement(counted), cancellationToken); // a row that is missing has nothing of it reserved
        }
    }

    public ValueTask ReleaseAsync(LedgerReservation reservation, CancellationToken cancellationToken) =>
        SettleAsync(reservation, default, cancellationToken);

    /// <summary>A read of the day's row (opened from the chain when missing): it changes nothing.</summary>
    public async ValueTask<LedgerFigures> TodayAsync(string keyId, CancellationToken cancellationToken)
    {
        var day = Today();
        for (var opens = 0; opens < MaxDayOpens; opens++)
        {
            if (await OnceMoreIfStaleAsync(() => ReadFiguresAsync(keyId, day, cancellationToken)) is { } figures)
            {
                return figures;
            }
            days.Forget(keyId, day);
            await days.OpenAsync(keyId, day, _openDay ??= OpenDayAsync);
        }
        throw DayNotOpened(keyId, day);
    }

    private async Task<LedgerFigures?> ReadFiguresAsync(string keyId, DateOnly day, CancellationToken cancellationToken)
    {
        await using var connection = await database.LedgerSource.OpenConnectionAsync(cancellationToken);
        await using var read = new NpgsqlCommand(Figures, connection);
        Add(read.Parameters, keyId, day);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new LedgerFigures(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    /// <summary>
    /// For statements that may go twice (a read, the day's insert that does nothing the second time): after the server
    /// restarted (or terminated its sessions), every idle connection of the pool is dead and fails its first use (an I/O
    /// error, or 57P01 / 57P02 from the server); the pool is cleared and the
    /// statement goes once more on a new one. (The proxy's path never waits on this pool: its claims ride the chain's
    /// own connection, which the writer replaces by itself.)
    /// </summary>
    private async Task<T> OnceMoreIfStaleAsync<T>(Func<Task<T>> statement)
    {
        try
        {
            return await statement();
        }
        catch (NpgsqlException e) when (e is not PostgresException
            || e is PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown })
        {
            database.LedgerSource.Clear();
            return await statement();
        }
    }

    /// <summary>One claim, one statement (its own transaction) on the ledger's pool.</summary>
    private async Task ApplyAsync(SpendClaim claim, CancellationToken cancellationToken)
    {
        await using var connection = await database.LedgerSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection) { BatchCommands = { PostgresSpendRows.Apply([claim]) } };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        PostgresSpendRows.ReadOutcomes(reader, [claim]);
    }

    /// <summary>The first reservation of a key's day: its row, opened from what the chain records for the day.</summary>
    private async Task OpenDayAsync(string keyId, DateOnly day)
    {
        long spent;
        try
        {
            spent = await history.SpentOnAsync(keyId, day, CancellationToken.None);
        }
        catch (Exception e) when (e is not (System.Data.Common.DbException or OperationCanceledException))
        {
            // A store that cannot be reached stays a DbException (answered as such); any other failure of the read
            // leaves a figure the ledger cannot stand by.
            throw new SpendUnavailableException($"The spend of {keyId} for {day:yyyy-MM-dd} could not be read from the audit log: {e.Message}", e);
        }
        await OnceMoreIfStaleAsync(async () =>
        {
            await using var connection = await database.LedgerSource.OpenConnectionAsync();
            await using var open = new NpgsqlCommand(Open, connection);
            Add(open.Parameters, keyId, day);
            open.Parameters.Add(new NpgsqlParameter<long> { TypedValue = spent, NpgsqlDbType = NpgsqlDbType.Bigint });
            return await open.ExecuteNonQueryAsync();
        });
    }

    private static SpendUnavailableException DayNotOpened(string keyId, DateOnly day) =>
        new($"The spend row of {keyId} for {day:yyyy-MM-dd} is still missing after opening it {MaxDayOpens} times: its spend cannot be counted, so its calls are refused.");

    private static void Add(NpgsqlParameterCollection parameters, string keyId, DateOnly day)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = keyId, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = day, NpgsqlDbType = NpgsqlDbType.Date });
    }

    private DateOnly Today() => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
}

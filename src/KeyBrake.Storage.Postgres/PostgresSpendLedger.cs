using System.Threading.Channels;
using KeyBrake.Spend;
using Npgsql;
using NpgsqlTypes;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// Today's spend per key (UTC day) in the shared table <c>spend_days</c>, so caps hold exactly whichever replica serves
/// each call (SPEC §9: "concurrent calls spread over replicas never overshoot a cap").
/// <para>
/// Reservations and settlements are grouped: one loop per replica takes every operation waiting and applies them in one
/// statement, one transaction, on its own connection (<c>keybrake_spend_apply</c>, migration 2): the batch's rows are
/// locked (<c>FOR UPDATE</c>, in key order, so two replicas' batches never deadlock), each operation is decided in
/// arrival order against the figures the one before it left, and each row is written once. One round trip per batch,
/// however many calls it holds (it was one conditional UPDATE per reservation and per settlement: measured in the
/// README). The row locks order one replica's batch against every other replica's, so the cap holds across replicas.
/// </para>
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
/// rate-limit window and a single-use approval are further rows locked and decided in the same batch transaction.
/// </para>
/// Database errors propagate to every operation of the batch (<see cref="System.Data.Common.DbException"/>): a
/// reservation's call is answered 503 and nothing is forwarded; a settlement that fails keeps its reservation.
/// </summary>
internal sealed class PostgresSpendLedger : ISpendLedger, IAsyncDisposable
{
    private const int MaxBatch = 256;

    /// <summary>
    /// How often a reservation goes again after opening its key's day. The row is inserted ON CONFLICT DO NOTHING and
    /// never deleted, so one open is enough; a row that is still missing after this many (dropped by something outside
    /// KeyBrake) fails the reservation, closed (<see cref="SpendUnavailableException"/>), instead of spinning the
    /// replica's ledger loop forever.
    /// </summary>
    private const int MaxDayOpens = 3;

    /// <summary>How many days a batch opens at once, each on a connection of its own (the ledger pool's default is 100).</summary>
    private const int DayOpensAtOnce = 8;

    /// <summary>The whole batch, decided and written by the database in one statement (migration 2).</summary>
    private const string Apply = "SELECT ord, granted, spent, reserved FROM keybrake_spend_apply($1, $2, $3, $4, $5)";

    private const string Figures = "SELECT spent_micros, reserved_micros FROM spend_days WHERE key_id = $1 AND day = $2";

    private const string Open = "INSERT INTO spend_days (key_id, day, spent_micros, reserved_micros) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING";

    private readonly PostgresDatabase _database;
    private readonly ISpendHistory _history;
    private readonly TimeProvider _time;
    private readonly Channel<Operation> _operations = Channel.CreateUnbounded<Operation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private NpgsqlConnection? _connection;

    public PostgresSpendLedger(PostgresDatabase database, ISpendHistory history, TimeProvider time)
    {
        (_database, _history, _time) = (database, history, time);
        _loop = Task.Run(RunAsync);
    }

    public async ValueTask<LedgerReservation> ReserveAsync(string keyId, long capMicros, MicroUsd estimate, CancellationToken cancellationToken)
    {
        var day = Today();
        var (granted, figures) = await Enqueue(new Operation(keyId, day, estimate.Value, capMicros, Counted: 0));
        return new LedgerReservation(keyId, day, estimate, granted, figures);
    }

    /// <summary>On the reservation's own day, also after midnight: it counted against that day.</summary>
    public async ValueTask SettleAsync(LedgerReservation reservation, MicroUsd counted, CancellationToken cancellationToken)
    {
        if (reservation.Granted)
        {
            await Enqueue(new Operation(reservation.KeyId, reservation.Day, reservation.Estimate.Value, Cap: null, counted.Value));
        }
    }

    public ValueTask ReleaseAsync(LedgerReservation reservation, CancellationToken cancellationToken) =>
        SettleAsync(reservation, default, cancellationToken);

    /// <summary>A read of the day's row (opened from the chain when missing), outside the batches: it changes nothing.</summary>
    public async ValueTask<LedgerFigures> TodayAsync(string keyId, CancellationToken cancellationToken)
    {
        var day = Today();
        for (var opens = 0; ; opens++)
        {
            if (opens == MaxDayOpens)
            {
                throw DayNotOpened(keyId, day);
            }
            await using (var connection = await _database.LedgerSource.OpenConnectionAsync(cancellationToken))
            await using (var read = new NpgsqlCommand(Figures, connection))
            {
                Add(read.Parameters, keyId, day);
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken))
                {
                    return new LedgerFigures(reader.GetInt64(0), reader.GetInt64(1));
                }
            }
            await OpenDayAsync(keyId, day, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _operations.Writer.TryComplete();
        await _loop;
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }

    private Task<(bool Granted, LedgerFigures Figures)> Enqueue(Operation operation) =>
        _operations.Writer.TryWrite(operation) ? operation.Done.Task : throw new ObjectDisposedException(nameof(PostgresSpendLedger));

    private async Task RunAsync()
    {
        var batch = new List<Operation>(MaxBatch);
        while (await _operations.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _operations.Reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }
            try
            {
                await ApplyAsync(batch);
            }
            catch (Exception e)
            {
                // The connection may be in any state: the next batch starts on a fresh one.
                await DropConnectionAsync();
                foreach (var operation in batch)
                {
                    operation.Done.TrySetException(e);
                }
            }
        }
    }

    /// <summary>
    /// One round trip, one transaction (keybrake_spend_apply, migration 2), then every caller is answered. Reservations
    /// whose key's day has no row yet wait while the day is opened from the chain, then go again.
    /// </summary>
    private async Task ApplyAsync(List<Operation> batch)
    {
        var connection = await ConnectionAsync();
        var pending = batch;
        for (var opens = 0; pending.Count > 0; opens++)
        {
            var unopened = new List<Operation>();
            await using (var apply = new NpgsqlCommand(Apply, connection))
            {
                var p = apply.Parameters;
                p.Add(new NpgsqlParameter<string[]> { TypedValue = pending.Select(o => o.KeyId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                p.Add(new NpgsqlParameter<DateOnly[]> { TypedValue = pending.Select(o => o.Day).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Date });
                p.Add(new NpgsqlParameter<long[]> { TypedValue = pending.Select(o => o.Estimate).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
                p.Add(new NpgsqlParameter<long?[]> { TypedValue = pending.Select(o => o.Cap).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
                p.Add(new NpgsqlParameter<long[]> { TypedValue = pending.Select(o => o.Counted).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
                var results = new (bool Granted, LedgerFigures Figures)?[pending.Count];
                await using (var reader = await apply.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        var i = (int)reader.GetInt64(0) - 1;
                        results[i] = reader.IsDBNull(1) ? null : (reader.GetBoolean(1), new LedgerFigures(reader.GetInt64(2), reader.GetInt64(3)));
                    }
                }
                for (var i = 0; i < pending.Count; i++)
                {
                    if (results[i] is { } result)
                    {
                        pending[i].Done.TrySetResult(result);
                    }
                    else if (pending[i].Cap is null)
                    {
                        pending[i].Done.TrySetResult(default); // a settlement without its day's row: nothing of it is reserved here
                    }
                    else
                    {
                        unopened.Add(pending[i]);
                    }
                }
            }
            if (unopened.Count > 0 && opens == MaxDayOpens)
            {
                foreach (var operation in unopened)
                {
                    operation.Done.TrySetException(DayNotOpened(operation.KeyId, operation.Day));
                }
                return;
            }
            pending = await OpenDaysAsync(unopened);
        }
    }

    /// <summary>
    /// Opens the days of a batch's unopened reservations, several at once (at midnight every active key's first call
    /// opens a day, each a read of the chain: one after the other they would hold up every call of the replica), and
    /// returns the reservations to go again. A day that cannot be opened (the chain cannot be read) fails its own
    /// reservations, not the batch's others.
    /// </summary>
    private async Task<List<Operation>> OpenDaysAsync(List<Operation> unopened)
    {
        var failed = new System.Collections.Concurrent.ConcurrentDictionary<(string KeyId, DateOnly Day), Exception>();
        await Parallel.ForEachAsync(
            unopened.Select(o => (o.KeyId, o.Day)).Distinct(),
            new ParallelOptions { MaxDegreeOfParallelism = DayOpensAtOnce },
            async (day, cancellationToken) =>
            {
                try
                {
                    await OpenDayAsync(day.KeyId, day.Day, cancellationToken);
                }
                catch (Exception e)
                {
                    failed[day] = e;
                }
            });
        var again = new List<Operation>(unopened.Count);
        foreach (var operation in unopened)
        {
            if (failed.TryGetValue((operation.KeyId, operation.Day), out var error))
            {
                operation.Done.TrySetException(error);
            }
            else
            {
                again.Add(operation);
            }
        }
        return again;
    }

    /// <summary>The first reservation of a key's day: its row, opened from what the chain records for the day.</summary>
    private async Task OpenDayAsync(string keyId, DateOnly day, CancellationToken cancellationToken)
    {
        long spent;
        try
        {
            spent = await _history.SpentOnAsync(keyId, day, cancellationToken);
        }
        catch (Exception e) when (e is not (System.Data.Common.DbException or OperationCanceledException))
        {
            // A store that cannot be reached stays a DbException (answered as such); any other failure of the read
            // leaves a figure the ledger cannot stand by.
            throw new SpendUnavailableException($"The spend of {keyId} for {day:yyyy-MM-dd} could not be read from the audit log: {e.Message}", e);
        }
        await using var connection = await _database.LedgerSource.OpenConnectionAsync(cancellationToken);
        await using var open = new NpgsqlCommand(Open, connection);
        Add(open.Parameters, keyId, day);
        open.Parameters.Add(new NpgsqlParameter<long> { TypedValue = spent, NpgsqlDbType = NpgsqlDbType.Bigint });
        await open.ExecuteNonQueryAsync(cancellationToken);
    }

    private static SpendUnavailableException DayNotOpened(string keyId, DateOnly day) =>
        new($"The spend row of {keyId} for {day:yyyy-MM-dd} is still missing after opening it {MaxDayOpens} times: its spend cannot be counted, so its calls are refused.");

    private async ValueTask<NpgsqlConnection> ConnectionAsync()
    {
        if (_connection is { State: System.Data.ConnectionState.Open })
        {
            return _connection;
        }
        await DropConnectionAsync();
        return _connection = await _database.LedgerSource.OpenConnectionAsync();
    }

    private async ValueTask DropConnectionAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            try
            {
                await connection.DisposeAsync();
            }
            catch (Exception)
            {
                // Already broken (the pool discards it): whatever it throws, the loop must go on, or no call is ever
                // reserved again.
            }
        }
    }

    private static void Add(NpgsqlParameterCollection parameters, string keyId, DateOnly day)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = keyId, NpgsqlDbType = NpgsqlDbType.Text });
        parameters.Add(new NpgsqlParameter<DateOnly> { TypedValue = day, NpgsqlDbType = NpgsqlDbType.Date });
    }

    private DateOnly Today() => DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);

    /// <summary>A reservation (<see cref="Cap"/> set) or a settlement (<see cref="Counted"/> turns <see cref="Estimate"/> into spend).</summary>
    private sealed record Operation(string KeyId, DateOnly Day, long Estimate, long? Cap, long Counted)
    {
        public TaskCompletionSource<(bool Granted, LedgerFigures Figures)> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

namespace KeyBrake.Spend;

/// <summary>
/// Today's spend per key (UTC day), in memory, one lock per key: the check against the cap and the reservation are
/// one step, so concurrent calls can never overshoot it. The durable record is the audit log (every reservation is a
/// committed <c>proxy.request</c> before it is forwarded, every settlement a <c>proxy.response</c>); a key's day is
/// rebuilt from it the first time the key is seen after a start, so reservations left in flight by a crash count as
/// in doubt and never vanish. That read happens before the key's lock is taken (the lock never waits on the database);
/// every later call completes synchronously. One process owns the ledger (several replicas would need a shared one).
/// </summary>
public sealed class SpendLedger(TimeProvider time, ISpendHistory history) : ISpendLedger
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Account> _accounts = new(StringComparer.Ordinal);

    public ValueTask<LedgerReservation> ReserveAsync(string keyId, long capMicros, MicroUsd estimate, CancellationToken cancellationToken)
    {
        var account = _accounts.GetOrAdd(keyId, static _ => new Account());
        return account.Opened
            ? ValueTask.FromResult(Reserve(account, keyId, capMicros, estimate))
            : OpenThenReserveAsync(account, keyId, capMicros, estimate, cancellationToken);
    }

    public ValueTask SettleAsync(LedgerReservation reservation, MicroUsd counted, CancellationToken cancellationToken)
    {
        if (reservation.Granted && _accounts.TryGetValue(reservation.KeyId, out var account))
        {
            lock (account.Gate)
            {
                Roll(account);
                if (account.Day == reservation.Day) // settled after midnight: it counted against its own day, which is over
                {
                    account.Reserved -= reservation.Estimate.Value;
                    account.Spent += counted.Value;
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask ReleaseAsync(LedgerReservation reservation, CancellationToken cancellationToken) =>
        SettleAsync(reservation, default, cancellationToken);

    public ValueTask<LedgerFigures> TodayAsync(string keyId, CancellationToken cancellationToken)
    {
        var account = _accounts.GetOrAdd(keyId, static _ => new Account());
        return account.Opened ? ValueTask.FromResult(Today(account)) : OpenThenTodayAsync(account, keyId, cancellationToken);
    }

    private async ValueTask<LedgerReservation> OpenThenReserveAsync(Account account, string keyId, long capMicros, MicroUsd estimate, CancellationToken cancellationToken)
    {
        await OpenAsync(account, keyId, cancellationToken);
        return Reserve(account, keyId, capMicros, estimate);
    }

    private async ValueTask<LedgerFigures> OpenThenTodayAsync(Account account, string keyId, CancellationToken cancellationToken)
    {
        await OpenAsync(account, keyId, cancellationToken);
        return Today(account);
    }

    private LedgerReservation Reserve(Account account, string keyId, long capMicros, MicroUsd estimate)
    {
        lock (account.Gate)
        {
            Roll(account);
            if (account.Spent + account.Reserved + estimate.Value > capMicros)
            {
                return new LedgerReservation(keyId, account.Day, estimate, Granted: false, new LedgerFigures(account.Spent, account.Reserved));
            }
            account.Reserved += estimate.Value;
            return new LedgerReservation(keyId, account.Day, estimate, Granted: true, new LedgerFigures(account.Spent, account.Reserved));
        }
    }

    private LedgerFigures Today(Account account)
    {
        lock (account.Gate)
        {
            Roll(account);
            return new LedgerFigures(account.Spent, account.Reserved);
        }
    }

    /// <summary>
    /// The first sight of a key after a start: its day so far is read from the audit log outside the lock, then set
    /// under it unless another call opened the account meanwhile (no call reserves before then, so nothing is lost). A
    /// read that straddles midnight is read again for the new day.
    /// </summary>
    private async ValueTask OpenAsync(Account account, string keyId, CancellationToken cancellationToken)
    {
        while (!account.Opened)
        {
            var day = Day();
            var spent = await history.SpentOnAsync(keyId, day, cancellationToken);
            lock (account.Gate)
            {
                if (!account.Opened && Day() == day)
                {
                    (account.Day, account.Spent, account.Reserved) = (day, spent, 0);
                    account.Opened = true;
                }
            }
        }
    }

    /// <summary>Under the account's lock, once opened: a new day starts empty.</summary>
    private void Roll(Account account)
    {
        var today = Day();
        if (account.Day != today)
        {
            (account.Day, account.Spent, account.Reserved) = (today, 0, 0);
        }
    }

    private DateOnly Day() => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    private sealed class Account
    {
        public readonly Lock Gate = new();
        private volatile bool _opened;
        public DateOnly Day;
        public long Spent;
        public long Reserved;

        /// <summary>Set once, under <see cref="Gate"/>, after the day's figures: read without the lock as a hint that they are there.</summary>
        public bool Opened
        {
            get => _opened;
            set => _opened = value;
        }
    }
}

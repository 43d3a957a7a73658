namespace KeyBrake.Spend;

/// <summary>
/// Today's spend per key (UTC day), in memory, one lock per key: the check against the cap and the reservation are
/// one step, so concurrent calls can never overshoot it. The durable record is the audit log (every reservation is a
/// committed <c>proxy.request</c> before it is forwarded, every settlement a <c>proxy.response</c>); a key's day is
/// rebuilt from it the first time the key is seen after a start, so reservations left in flight by a crash count as
/// in doubt and never vanish. One process owns the ledger (several replicas would need a shared one).
/// </summary>
internal sealed class SpendLedger(TimeProvider time, ISpendHistory history)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Account> _accounts = new(StringComparer.Ordinal);

    /// <summary>Reserves <paramref name="estimate"/> unless spent + reserved + estimate would pass the cap.</summary>
    public LedgerReservation? TryReserve(string keyId, long capMicros, MicroUsd estimate, out LedgerFigures figures)
    {
        var account = _accounts.GetOrAdd(keyId, static _ => new Account());
        lock (account.Gate)
        {
            Roll(account, keyId);
            figures = new LedgerFigures(account.Spent, account.Reserved);
            if (account.Spent + account.Reserved + estimate.Value > capMicros)
            {
                return null;
            }
            account.Reserved += estimate.Value;
            figures = new LedgerFigures(account.Spent, account.Reserved);
            return new LedgerReservation(keyId, account.Day, estimate);
        }
    }

    /// <summary>Turns a reservation into spend: <paramref name="counted"/> (actual, estimate when in doubt, 0 when rejected).</summary>
    public void Settle(LedgerReservation reservation, MicroUsd counted)
    {
        var account = _accounts.GetOrAdd(reservation.KeyId, static _ => new Account());
        lock (account.Gate)
        {
            Roll(account, reservation.KeyId);
            if (account.Day != reservation.Day)
            {
                return; // settled after midnight: it counted against its own day, which is over
            }
            account.Reserved -= reservation.Estimate.Value;
            account.Spent += counted.Value;
        }
    }

    public void Release(LedgerReservation reservation) => Settle(reservation, default);

    public LedgerFigures Today(string keyId)
    {
        var account = _accounts.GetOrAdd(keyId, static _ => new Account());
        lock (account.Gate)
        {
            Roll(account, keyId);
            return new LedgerFigures(account.Spent, account.Reserved);
        }
    }

    /// <summary>Under the account's lock: a new day starts empty; the first sight of a key after a start rebuilds its day from the audit log.</summary>
    private void Roll(Account account, string keyId)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (account.Day != today)
        {
            var spent = account.Day == default ? history.SpentOn(keyId, today) : 0;
            (account.Day, account.Spent, account.Reserved) = (today, spent, 0);
        }
    }

    private sealed class Account
    {
        public readonly Lock Gate = new();
        public DateOnly Day;
        public long Spent;
        public long Reserved;
    }
}

internal readonly record struct LedgerFigures(long SpentMicros, long ReservedMicros);

internal sealed record LedgerReservation(string KeyId, DateOnly Day, MicroUsd Estimate);

/// <summary>What a key spent on a UTC day according to the audit log (settled plus in doubt).</summary>
internal interface ISpendHistory
{
    long SpentOn(string keyId, DateOnly day);
}

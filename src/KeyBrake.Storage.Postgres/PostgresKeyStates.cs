using KeyBrake.Audit;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// The chain store's memory of keys' state (last run_seq, closing entry), kept current to <see cref="KnownSeq"/>. With
/// several replicas the head moves between nearly every two batches of one writer, and the writer then forgets every
/// key; without this, each batch would read each of its keys again (one round trip per key, with the chain lock held).
/// Instead each batch reads, inside the lock, the key entries committed since <see cref="KnownSeq"/> (the other
/// replicas' batches) and applies them; its own are applied when it commits. Anything uncertain (a failed batch, a
/// long absence) forgets everything, and keys are then read from the database again.
/// </summary>
internal sealed class PostgresKeyStates
{
    /// <summary>More key entries than this since <see cref="KnownSeq"/>: forget and read keys again rather than catch up.</summary>
    public const int MaxCatchUp = 10_000;

    private const int MaxKeys = 100_000;

    private readonly Dictionary<string, AuditKeyState> _keys = new(StringComparer.Ordinal);

    /// <summary>The seq up to which every remembered key is current; -1 when nothing is.</summary>
    public long KnownSeq { get; private set; } = -1;

    public bool TryGet(string keyId, out AuditKeyState state) => _keys.TryGetValue(keyId, out state);

    /// <summary>A key's state as read from the database inside the current batch (committed, so current to <see cref="KnownSeq"/>).</summary>
    public void Remember(string keyId, AuditKeyState state)
    {
        if (_keys.Count >= MaxKeys)
        {
            _keys.Clear(); // keys are short-lived; the database answers for the ones still in use
        }
        _keys[keyId] = state;
    }

    /// <summary>A committed entry of <paramref name="keyId"/>, in seq order after <see cref="KnownSeq"/>.</summary>
    public void Apply(string keyId, long? runSeq, string type)
    {
        if (_keys.TryGetValue(keyId, out var state))
        {
            var closing = type is AuditTypes.KeyRevoked or AuditTypes.KeyExpired ? type : null;
            _keys[keyId] = new AuditKeyState(runSeq ?? state.LastRunSeq, state.ClosedBy ?? closing);
        }
    }

    public void CaughtUpTo(long seq) => KnownSeq = seq;

    public void Forget()
    {
        _keys.Clear();
        KnownSeq = -1;
    }
}

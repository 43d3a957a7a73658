using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace KeyBrake.Audit;

/// <summary>The answer of <c>GET /v1/audit/verify</c> and of the start-up check.</summary>
public sealed record VerifyResult(bool Ok, long Entries, long HeadSeq, string HeadHash, long? FirstBadSeq, string? Problem);

/// <summary>
/// Checks a chain fed in seq order: no gap, each <c>prev_hash</c> links to the previous <c>hash</c>, each
/// <c>hash</c> recomputed from the entry's content, and every signed checkpoint matched. Links and hashes catch an
/// edited field, a deleted row or a reordering; checkpoints (kept outside the database too) catch a truncated
/// tail or a chain rewritten from scratch, which are self-consistent otherwise. It also holds the chain to SPEC §7's
/// "revocation is provable": no <c>proxy.request</c> of a key after that key's <c>key.revoked</c> or <c>key.expired</c>.
/// </summary>
public sealed class AuditVerifier
{
    private readonly Dictionary<long, byte[]> _checkpoints = [];
    private readonly long _lastCheckpointSeq;
    private long _lastMatchedCheckpoint;
    private long _seq;
    private readonly byte[] _hash = new byte[64];
    private long _count;
    private long? _firstBad;
    private string? _problem;

    /// <summary>Key id → the seq and type of its first key.revoked / key.expired.</summary>
    private readonly Dictionary<string, (long Seq, string Type)> _closed = new(StringComparer.Ordinal);

    /// <summary>Key id → its first proxy.request seen here; kept only for the second half of a split verification.</summary>
    private readonly Dictionary<string, long>? _firstRequests;

    /// <param name="checkpoints">Checkpoints to hold the chain to; each must be signed by <paramref name="publicKey"/>.</param>
    /// <param name="publicKey">The checkpoint public key; null to check links and hashes only.</param>
    /// <param name="startSeq">Verify a tail: the seq before the first entry that will be fed (0 for the whole chain).</param>
    /// <param name="startHash">The trusted hash at <paramref name="startSeq"/> (from a checkpoint).</param>
    /// <param name="lastTrustedCheckpoint">The last checkpoint at or before <paramref name="startSeq"/> known to match (default: startSeq).</param>
    /// <param name="trackFirstRequests">Remember each key's first proxy.request, for <see cref="FirstRevocationBreach"/>.</param>
    public AuditVerifier(IEnumerable<Checkpoint> checkpoints, ECDsa? publicKey, long startSeq = 0, string? startHash = null, long? lastTrustedCheckpoint = null,
        bool trackFirstRequests = false)
    {
        _firstRequests = trackFirstRequests ? new(StringComparer.Ordinal) : null;
        _seq = startSeq;
        Encoding.ASCII.GetBytes(startHash ?? AuditHash.Genesis, _hash);
        _lastMatchedCheckpoint = lastTrustedCheckpoint ?? startSeq;
        foreach (var checkpoint in checkpoints.OrderBy(c => c.Seq))
        {
            if (publicKey is not null && !checkpoint.IsSignedBy(publicKey))
            {
                Fail(checkpoint.Seq, $"the checkpoint at seq {checkpoint.Seq} does not carry a valid signature");
                return;
            }
            var hash = Encoding.ASCII.GetBytes(checkpoint.Hash);
            if (_checkpoints.TryGetValue(checkpoint.Seq, out var other) && !other.AsSpan().SequenceEqual(hash))
            {
                Fail(checkpoint.Seq, $"two signed checkpoints disagree about seq {checkpoint.Seq}");
                return;
            }
            if (checkpoint.Seq > startSeq)
            {
                _checkpoints[checkpoint.Seq] = hash;
                _lastCheckpointSeq = Math.Max(_lastCheckpointSeq, checkpoint.Seq);
            }
        }
    }

    /// <summary>Feeds the next entry; false once the chain is broken (feeding more changes nothing).</summary>
    public bool Add(AuditEntry entry)
    {
        Span<byte> prev = stackalloc byte[64], computed = stackalloc byte[64], stored = stackalloc byte[64];
        var prevOk = Encoding.ASCII.TryGetBytes(entry.PrevHash, prev, out var prevLength) && prevLength == 64;
        var storedOk = Encoding.ASCII.TryGetBytes(entry.Hash, stored, out var storedLength) && storedLength == 64;
        computed.Fill((byte)'?');
        Encoding.ASCII.GetBytes(AuditHash.Compute(entry), computed);
        return Check(entry.Seq, prevOk ? prev : [], computed, storedOk ? stored : [])
            && CheckRevocation(entry.Seq, KindOf(entry.Type), entry.KeyId);
    }

    /// <summary>Feeds the next entry straight from its stored fields (a SQLite row), without materialising it.</summary>
    public bool Add<TFields>(ref TFields row)
        where TFields : IEntryFields, allows ref struct
    {
        if (_firstBad is not null)
        {
            return false;
        }
        Span<byte> prev = stackalloc byte[64], computed = stackalloc byte[64], stored = stackalloc byte[64];
        var prevText = row.Utf8(Fields.PrevHash);
        var prevOk = prevText.Length == 64 && prevText.TryCopyTo(prev);
        AuditHash.ComputeHex(ref row, computed);
        var storedText = row.Utf8(Fields.Hash);
        var storedOk = storedText.Length == 64 && storedText.TryCopyTo(stored);
        var seq = row.Number(Fields.Seq);
        if (!Check(seq, prevOk ? prev : [], computed, storedOk ? stored : []))
        {
            return false;
        }
        var kind = KindOf(row.Utf8(Fields.Type));
        if (kind == Kind.Other || row.IsNull(Fields.KeyId) || (kind == Kind.Request && _closed.Count == 0 && _firstRequests is null))
        {
            return true; // the common case: nothing to look up, nothing decoded
        }
        var keyId = row.Utf8(Fields.KeyId);
        if (keyId.Length > 128)
        {
            return CheckRevocation(seq, kind, Encoding.UTF8.GetString(keyId));
        }
        Span<char> chars = stackalloc char[128];
        return CheckRevocation(seq, kind, chars[..Encoding.UTF8.GetChars(keyId, chars)]);
    }

    /// <summary>
    /// For a chain verified in two halves: the first <c>proxy.request</c> that <paramref name="later"/> (the second
    /// half) holds of a key this verifier (the first half) saw revoked or expired; null if none.
    /// </summary>
    public (long Seq, string Problem)? FirstRevocationBreach(AuditVerifier later)
    {
        (string Key, long Seq)? breach = null;
        foreach (var (key, seq) in later._firstRequests ?? [])
        {
            if (_closed.ContainsKey(key) && (breach is null || seq < breach.Value.Seq))
            {
                breach = (key, seq);
            }
        }
        return breach is { } found ? (found.Seq, RevocationProblem(found.Seq, found.Key, _closed[found.Key])) : null;
    }

    private bool Check(long seq, ReadOnlySpan<byte> prevHash, ReadOnlySpan<byte> computed, ReadOnlySpan<byte> stored)
    {
        if (_firstBad is not null)
        {
            return false;
        }
        var expected = _seq + 1;
        if (seq != expected)
        {
            return Fail(
                seq > expected ? expected : seq,
                seq > expected ? $"seq {expected} is missing (the next entry is seq {seq})" : $"seq {seq} appears after seq {_seq}: entries were reordered or duplicated");
        }
        if (!prevHash.SequenceEqual(_hash))
        {
            return Fail(seq, $"prev_hash of seq {seq} does not match the hash of seq {_seq}");
        }
        if (!computed.SequenceEqual(stored))
        {
            return Fail(seq, $"seq {seq} was altered: its hash does not match its content");
        }
        if (_checkpoints.TryGetValue(seq, out var signed))
        {
            if (!stored.SequenceEqual(signed))
            {
                return Fail(_lastMatchedCheckpoint + 1, string.Create(CultureInfo.InvariantCulture,
                    $"seq {seq} does not match its signed checkpoint: the chain was rewritten after seq {_lastMatchedCheckpoint}"));
            }
            _lastMatchedCheckpoint = seq;
        }
        _seq = seq;
        stored.CopyTo(_hash);
        _count++;
        return true;
    }

    private bool CheckRevocation(long seq, Kind kind, ReadOnlySpan<char> keyId)
    {
        if (kind == Kind.Other || keyId.IsEmpty)
        {
            return true;
        }
        if (kind is Kind.Revoked or Kind.Expired)
        {
            _closed.TryAdd(keyId.ToString(), (seq, kind == Kind.Revoked ? AuditTypes.KeyRevoked : AuditTypes.KeyExpired));
            return true;
        }
        if (_closed.Count > 0 && _closed.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(keyId, out var closed))
        {
            return Fail(seq, RevocationProblem(seq, keyId.ToString(), closed));
        }
        if (_firstRequests is not null)
        {
            var lookup = _firstRequests.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!lookup.ContainsKey(keyId))
            {
                lookup[keyId] = seq;
            }
        }
        return true;
    }

    private static string RevocationProblem(long seq, string keyId, (long Seq, string Type) closed) => string.Create(CultureInfo.InvariantCulture,
        $"seq {seq} is a proxy.request of key {keyId} after its {closed.Type} at seq {closed.Seq}: a revoked or expired key's request was sealed");

    private enum Kind
    {
        Other,
        Request,
        Revoked,
        Expired,
    }

    private static Kind KindOf(string type) => type switch
    {
        AuditTypes.ProxyRequest => Kind.Request,
        AuditTypes.KeyRevoked => Kind.Revoked,
        AuditTypes.KeyExpired => Kind.Expired,
        _ => Kind.Other,
    };

    private static Kind KindOf(ReadOnlySpan<byte> type) =>
        type.SequenceEqual("proxy.request"u8) ? Kind.Request
        : type.SequenceEqual("key.revoked"u8) ? Kind.Revoked
        : type.SequenceEqual("key.expired"u8) ? Kind.Expired
        : Kind.Other;

    public VerifyResult Finish()
    {
        if (_firstBad is null && _lastCheckpointSeq > _seq)
        {
            Fail(_seq + 1, $"the chain ends at seq {_seq} but a signed checkpoint covers seq {_lastCheckpointSeq}: entries were removed from the end");
        }
        return new VerifyResult(_firstBad is null, _count, _seq, Encoding.ASCII.GetString(_hash), _firstBad, _problem);
    }

    private bool Fail(long seq, string problem)
    {
        _firstBad = seq;
        _problem = problem;
        return false;
    }
}

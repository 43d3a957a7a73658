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
/// tail or a chain rewritten from scratch, which are self-consistent otherwise.
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

    /// <param name="checkpoints">Checkpoints to hold the chain to; each must be signed by <paramref name="publicKey"/>.</param>
    /// <param name="publicKey">The checkpoint public key; null to check links and hashes only.</param>
    /// <param name="startSeq">Verify a tail: the seq before the first entry that will be fed (0 for the whole chain).</param>
    /// <param name="startHash">The trusted hash at <paramref name="startSeq"/> (from a checkpoint).</param>
    /// <param name="lastTrustedCheckpoint">The last checkpoint at or before <paramref name="startSeq"/> known to match (default: startSeq).</param>
    public AuditVerifier(IEnumerable<Checkpoint> checkpoints, ECDsa? publicKey, long startSeq = 0, string? startHash = null, long? lastTrustedCheckpoint = null)
    {
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
        return Check(entry.Seq, prevOk ? prev : [], computed, storedOk ? stored : []);
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
        return Check(row.Number(Fields.Seq), prevOk ? prev : [], computed, storedOk ? stored : []);
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

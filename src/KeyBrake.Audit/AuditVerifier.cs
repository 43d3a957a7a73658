using System.Globalization;
using System.Security.Cryptography;

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
    private readonly Dictionary<long, string> _checkpoints = [];
    private readonly long _lastCheckpointSeq;
    private long _lastMatchedCheckpoint;
    private long _seq;
    private string _hash;
    private long _count;
    private long? _firstBad;
    private string? _problem;

    /// <param name="checkpoints">Checkpoints to hold the chain to; each must be signed by <paramref name="publicKey"/>.</param>
    /// <param name="publicKey">The checkpoint public key; null to check links and hashes only.</param>
    /// <param name="startSeq">Verify a tail: the seq before the first entry that will be fed (0 for the whole chain).</param>
    /// <param name="startHash">The trusted hash at <paramref name="startSeq"/> (from a checkpoint).</param>
    public AuditVerifier(IEnumerable<Checkpoint> checkpoints, ECDsa? publicKey, long startSeq = 0, string? startHash = null)
    {
        _seq = startSeq;
        _hash = startHash ?? AuditHash.Genesis;
        _lastMatchedCheckpoint = startSeq;
        foreach (var checkpoint in checkpoints.OrderBy(c => c.Seq))
        {
            if (publicKey is not null && !checkpoint.IsSignedBy(publicKey))
            {
                Fail(checkpoint.Seq, $"the checkpoint at seq {checkpoint.Seq} does not carry a valid signature");
                return;
            }
            if (_checkpoints.TryGetValue(checkpoint.Seq, out var other) && other != checkpoint.Hash)
            {
                Fail(checkpoint.Seq, $"two signed checkpoints disagree about seq {checkpoint.Seq}");
                return;
            }
            if (checkpoint.Seq > startSeq)
            {
                _checkpoints[checkpoint.Seq] = checkpoint.Hash;
                _lastCheckpointSeq = Math.Max(_lastCheckpointSeq, checkpoint.Seq);
            }
        }
    }

    public bool IsBroken => _firstBad is not null;

    /// <summary>Feeds the next entry; false once the chain is broken (feeding more changes nothing).</summary>
    public bool Add(AuditEntry entry)
    {
        if (_firstBad is not null)
        {
            return false;
        }
        var expected = _seq + 1;
        if (entry.Seq != expected)
        {
            return Fail(
                entry.Seq > expected ? expected : entry.Seq,
                entry.Seq > expected ? $"seq {expected} is missing (the next entry is seq {entry.Seq})" : $"seq {entry.Seq} appears after seq {_seq}: entries were reordered or duplicated");
        }
        if (!string.Equals(entry.PrevHash, _hash, StringComparison.Ordinal))
        {
            return Fail(entry.Seq, $"prev_hash of seq {entry.Seq} does not match the hash of seq {_seq}");
        }
        if (!string.Equals(AuditHash.Compute(entry), entry.Hash, StringComparison.Ordinal))
        {
            return Fail(entry.Seq, $"seq {entry.Seq} was altered: its hash does not match its content");
        }
        if (_checkpoints.TryGetValue(entry.Seq, out var signed))
        {
            if (!string.Equals(signed, entry.Hash, StringComparison.Ordinal))
            {
                return Fail(_lastMatchedCheckpoint + 1, string.Create(CultureInfo.InvariantCulture,
                    $"seq {entry.Seq} does not match its signed checkpoint: the chain was rewritten after seq {_lastMatchedCheckpoint}"));
            }
            _lastMatchedCheckpoint = entry.Seq;
        }
        _seq = entry.Seq;
        _hash = entry.Hash;
        _count++;
        return true;
    }

    public VerifyResult Finish()
    {
        if (_firstBad is null && _lastCheckpointSeq > _seq)
        {
            Fail(_seq + 1, $"the chain ends at seq {_seq} but a signed checkpoint covers seq {_lastCheckpointSeq}: entries were removed from the end");
        }
        return new VerifyResult(_firstBad is null, _count, _seq, _hash, _firstBad, _problem);
    }

    private bool Fail(long seq, string problem)
    {
        _firstBad = seq;
        _problem = problem;
        return false;
    }
}

using System.Security.Cryptography;

namespace KeyBrake.Audit;

/// <summary>Verification of the stored chain: all of it (the admin API), or its tail from the last checkpoint (start-up).</summary>
public static class ChainCheck
{
    /// <summary>Below this many entries the chain is verified on one thread.</summary>
    private const long ParallelFrom = 50_000;

    /// <summary>
    /// The whole chain, in two halves verified in parallel (each feed reads on its own connection). The second half starts from the
    /// stored hash of the first half's last entry, which the first half verifies, so every link is still checked; a
    /// break is reported exactly as one pass would (the first half's failure comes first).
    /// </summary>
    public static VerifyResult Full(IAuditReader reader, IReadOnlyList<Checkpoint> checkpoints, ECDsa publicKey)
    {
        var (head, _) = reader.ReadHead();
        var mid = head / 2;
        var midHash = head >= ParallelFrom ? reader.HashAt(mid) : null;
        if (midHash is null)
        {
            var verifier = new AuditVerifier(checkpoints, publicKey);
            reader.Feed(0, long.MaxValue, verifier);
            return verifier.Finish();
        }
        var early = checkpoints.Where(c => c.Seq <= mid).ToList();
        var first = new AuditVerifier(early, publicKey);
        var second = new AuditVerifier(checkpoints.Where(c => c.Seq > mid), publicKey, mid, midHash,
            lastTrustedCheckpoint: early.Count == 0 ? 0 : early.Max(c => c.Seq), trackFirstRequests: true);
        Parallel.Invoke(() => reader.Feed(0, mid, first), () => reader.Feed(mid, long.MaxValue, second));
        var a = first.Finish();
        if (!a.Ok)
        {
            return a;
        }
        var b = second.Finish();
        // A key revoked in the first half and used in the second: only the two halves together see it (SPEC §7).
        if (first.FirstRevocationBreach(second) is { } breach && (b.FirstBadSeq is null || breach.Seq < b.FirstBadSeq))
        {
            // Reported as one pass reports it: that pass stops at the breach, which it counted.
            return new VerifyResult(false, breach.Seq, breach.Seq, reader.HashAt(breach.Seq)!, breach.Seq, breach.Problem);
        }
        return b with { Entries = a.Entries + b.Entries };
    }

    /// <summary>
    /// Trusts the chain up to the last signed checkpoint it still reaches, and checks everything after it, plus any
    /// checkpoint beyond the head (a truncated tail).
    /// </summary>
    public static VerifyResult Tail(IAuditReader reader, IReadOnlyList<Checkpoint> checkpoints, ECDsa publicKey)
    {
        var (headSeq, headHash) = reader.ReadHead();
        var sorted = checkpoints.OrderBy(c => c.Seq).ToList();
        var anchor = sorted.LastOrDefault(c => c.Seq <= headSeq);
        if (anchor is not null)
        {
            if (!anchor.IsSignedBy(publicKey))
            {
                return new VerifyResult(false, 0, headSeq, headHash, anchor.Seq, $"the checkpoint at seq {anchor.Seq} does not carry a valid signature");
            }
            if (reader.HashAt(anchor.Seq) != anchor.Hash)
            {
                var lastGood = sorted.LastOrDefault(c => c.Seq < anchor.Seq && reader.HashAt(c.Seq) == c.Hash)?.Seq ?? 0;
                return new VerifyResult(false, 0, headSeq, headHash, lastGood + 1,
                    $"seq {anchor.Seq} does not match its signed checkpoint: the chain was rewritten after seq {lastGood}");
            }
        }
        var verifier = new AuditVerifier(sorted.Where(c => c.Seq > (anchor?.Seq ?? 0)), publicKey, anchor?.Seq ?? 0, anchor?.Hash);
        reader.Feed(anchor?.Seq ?? 0, long.MaxValue, verifier);
        return verifier.Finish();
    }
}

using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace KeyBrake.Audit;

/// <summary>Verification of the stored chain: all of it (the admin API), or its tail from the last checkpoint (start-up).</summary>
public static class ChainCheck
{
    public static VerifyResult Full(SqliteConnection connection, IReadOnlyList<Checkpoint> checkpoints, ECDsa publicKey)
    {
        var verifier = new AuditVerifier(checkpoints, publicKey);
        foreach (var entry in SqliteAuditStore.ReadAfter(connection, 0))
        {
            if (!verifier.Add(entry))
            {
                break;
            }
        }
        return verifier.Finish();
    }

    /// <summary>
    /// Trusts the chain up to the last signed checkpoint it still reaches, and checks everything after it, plus any
    /// checkpoint beyond the head (a truncated tail).
    /// </summary>
    public static VerifyResult Tail(SqliteConnection connection, IReadOnlyList<Checkpoint> checkpoints, ECDsa publicKey)
    {
        var (headSeq, headHash) = SqliteAuditStore.ReadHead(connection);
        var sorted = checkpoints.OrderBy(c => c.Seq).ToList();
        var anchor = sorted.LastOrDefault(c => c.Seq <= headSeq);
        if (anchor is not null)
        {
            if (!anchor.IsSignedBy(publicKey))
            {
                return new VerifyResult(false, 0, headSeq, headHash, anchor.Seq, $"the checkpoint at seq {anchor.Seq} does not carry a valid signature");
            }
            if (SqliteAuditStore.HashAt(connection, anchor.Seq) != anchor.Hash)
            {
                var lastGood = sorted.LastOrDefault(c => c.Seq < anchor.Seq && SqliteAuditStore.HashAt(connection, c.Seq) == c.Hash)?.Seq ?? 0;
                return new VerifyResult(false, 0, headSeq, headHash, lastGood + 1,
                    $"seq {anchor.Seq} does not match its signed checkpoint: the chain was rewritten after seq {lastGood}");
            }
        }
        var verifier = new AuditVerifier(sorted.Where(c => c.Seq > (anchor?.Seq ?? 0)), publicKey, anchor?.Seq ?? 0, anchor?.Hash);
        foreach (var entry in SqliteAuditStore.ReadAfter(connection, anchor?.Seq ?? 0))
        {
            if (!verifier.Add(entry))
            {
                break;
            }
        }
        return verifier.Finish();
    }
}

using System.Globalization;
using System.Security.Cryptography;
using KeyBrake.Audit;

namespace KeyBrake.Storage;

/// <summary>
/// SPEC §9 "Moving up", engine-neutral: a stopped store's keys, principals, whole chain and checkpoints into an empty
/// one. The chain is verified against the signed checkpoints before anything is written, and again as the target reads
/// it back inside the copy's one transaction, with every copied row compared: the transaction commits only when all of
/// it matches, so a refused or failed copy leaves the target empty. Spend is not copied: the chain is its record
/// (SPEC §5), and the target's ledger rebuilds a key's day from the chain the first time it needs it.
/// </summary>
internal sealed class StorageCopy(IStoreCopySource source, IAuditReader sourceChain, IStoreEngine targetEngine, IStoreCopyTarget target)
{
    /// <summary>Throws <see cref="StoreCopyRefusedException"/> when the copy must not (or did not) go ahead; nothing is written then.</summary>
    public async Task<StorageCopyResult> RunAsync(IReadOnlyList<Checkpoint> checkpoints, ECDsa publicKey, CancellationToken cancellationToken)
    {
        var before = ChainCheck.Full(sourceChain, checkpoints, publicKey);
        if (!before.Ok)
        {
            throw new StoreCopyRefusedException(string.Create(CultureInfo.InvariantCulture,
                $"the source's audit chain does not verify at seq {before.FirstBadSeq}: {before.Problem}. Nothing was copied."));
        }
        var tables = source.ReadTables();
        // One per seq, the store's first (a checkpoint taken again at the same head only repeats it; both verified above).
        var signed = checkpoints.DistinctBy(c => c.Seq).OrderBy(c => c.Seq).ToList();

        targetEngine.Migrate();
        await using var copy = await target.BeginAsync(cancellationToken);
        var filled = (await copy.CountRowsAsync(cancellationToken)).Where(t => t.Value > 0).ToList();
        if (filled.Count > 0)
        {
            throw new StoreCopyRefusedException(
                $"the target is not empty ({string.Join(", ", filled.Select(t => $"{t.Key}: {t.Value}"))}); a copy goes only into an empty database. Nothing was written.");
        }
        foreach (var table in tables)
        {
            await copy.WriteAsync(table, cancellationToken);
        }
        var entries = await copy.WriteChainAsync(sourceChain.ExportAsync(new AuditFilter(), cancellationToken), cancellationToken);
        await copy.WriteCheckpointsAsync(signed, cancellationToken);

        await VerifyReadBackAsync(copy, tables, signed, before, entries, publicKey, cancellationToken);
        await copy.CommitAsync(cancellationToken);
        return new StorageCopyResult(tables, entries, signed.Count, before.HeadSeq, before.HeadHash);
    }

    private static async Task VerifyReadBackAsync(IStoreCopy copy, IReadOnlyList<StoredTable> tables, IReadOnlyList<Checkpoint> signed, VerifyResult before,
        long entries, ECDsa publicKey, CancellationToken cancellationToken)
    {
        foreach (var table in tables)
        {
            if (!table.SameRowsAs(await copy.ReadAsync(table.Name, cancellationToken)))
            {
                throw new StoreCopyRefusedException($"{table.Name} read back from the target differs from the source. Nothing was written.");
            }
        }
        var checkpoints = await copy.ReadCheckpointsAsync(cancellationToken);
        if (!checkpoints.SequenceEqual(signed))
        {
            throw new StoreCopyRefusedException("the checkpoints read back from the target differ from the source's. Nothing was written.");
        }
        var verifier = new AuditVerifier(checkpoints, publicKey);
        await copy.FeedAsync(verifier, cancellationToken);
        var after = verifier.Finish();
        if (!after.Ok || after.Entries != before.Entries || entries != before.Entries || after.HeadSeq != before.HeadSeq || after.HeadHash != before.HeadHash)
        {
            throw new StoreCopyRefusedException(string.Create(CultureInfo.InvariantCulture,
                $"the chain read back from the target does not verify as the source's did ({after.Problem ?? $"{after.Entries} entries, head seq {after.HeadSeq}"}; the source: {before.Entries} entries, head seq {before.HeadSeq}). Nothing was written."));
        }
    }
}

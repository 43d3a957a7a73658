namespace KeyBrake.Storage;

/// <summary>
/// A stopped store read for <c>KeyBrake storage copy</c> (SPEC §9 "Moving up"): the tables besides the chain, row by row
/// as stored. The chain and its checkpoints are read through the same engine's <c>IAuditReader</c>.
/// </summary>
public interface IStoreCopySource
{
    /// <summary>
    /// Every table of <see cref="StoredTable.Copied"/>, whole. Throws <see cref="StoreCopyRefusedException"/> when the
    /// store is not at this version's schema or holds a value a copy could not reproduce.
    /// </summary>
    IReadOnlyList<StoredTable> ReadTables();
}

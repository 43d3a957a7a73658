namespace KeyBrake.Storage;

/// <summary>What a copy wrote, for its summary.</summary>
internal sealed record StorageCopyResult(IReadOnlyList<StoredTable> Tables, long Entries, int Checkpoints, long HeadSeq, string HeadHash);

namespace KeyBrake.Audit;

/// <summary>The last committed entry of the chain: seq 0 and the genesis hash for an empty chain.</summary>
public readonly record struct AuditHead(long Seq, string Hash)
{
    public static AuditHead Empty => new(0, AuditHash.Genesis);
}

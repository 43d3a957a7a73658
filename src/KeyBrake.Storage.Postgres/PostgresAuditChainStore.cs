namespace KeyBrake.Storage.Postgres;

/// <summary>The chain on PostgreSQL (being written).</summary>
internal sealed class PostgresAuditChainStore
{
    /// <summary>The advisory lock every replica's audit batch takes first ("KBchain!"): one chain, one writer at a time.</summary>
    public const long ChainLock = 0x4B_42_63_68_61_69_6E_21;
}

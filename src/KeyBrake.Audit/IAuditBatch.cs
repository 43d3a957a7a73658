namespace KeyBrake.Audit;

/// <summary>One transaction of the chain's writer. Dispose without <see cref="Commit"/> to roll it back.</summary>
public interface IAuditBatch : IDisposable
{
    /// <summary>The head as of this transaction (another replica may have moved it since the writer's last batch).</summary>
    AuditHead Head { get; }

    /// <summary>A key's last <c>run_seq</c> and its closing entry, read inside the transaction.</summary>
    AuditKeyState KeyState(string keyId);

    /// <summary>
    /// Writes the sealed entries, in seq order, inside the transaction; waits while another writer holds the chain.
    /// Nothing is visible to readers until <see cref="Commit"/>. May be called more than once per batch (each call's
    /// entries continue the seqs of the one before).
    /// </summary>
    void Insert(IReadOnlyList<AuditEntry> entries);

    /// <summary>
    /// Applies more settlements (the release of a reservation whose entry was withdrawn) inside the transaction, with
    /// the commit. Only on a store that <see cref="IAuditChainStore.KeepsSpend"/>.
    /// </summary>
    void Settle(IReadOnlyList<SpendClaim> settlements);

    void Commit();
}

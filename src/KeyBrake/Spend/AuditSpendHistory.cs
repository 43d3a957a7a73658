using KeyBrake.Audit;

namespace KeyBrake.Spend;

/// <summary>A key's day as the audit log records it (<see cref="DaySpend"/>): the ledger's memory after a start.</summary>
internal sealed class AuditSpendHistory(IAuditReader reader) : ISpendHistory
{
    // Synchronous for now: the ledger asks under its lock, and SQLite answers synchronously.
    public long SpentOn(string keyId, DateOnly day) => reader.SpentOnAsync(keyId, day, CancellationToken.None).GetAwaiter().GetResult();
}

using KeyBrake.Audit;

namespace KeyBrake.Spend;

/// <summary>A key's day as the audit log records it (<see cref="DaySpend"/>): the ledger's memory after a start.</summary>
public sealed class AuditSpendHistory(IAuditReader reader) : ISpendHistory
{
    public async ValueTask<long> SpentOnAsync(string keyId, DateOnly day, CancellationToken cancellationToken) =>
        await reader.SpentOnAsync(keyId, day, cancellationToken);
}

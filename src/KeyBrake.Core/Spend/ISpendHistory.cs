namespace KeyBrake.Spend;

/// <summary>What a key spent on a UTC day according to the audit log (settled plus in doubt).</summary>
public interface ISpendHistory
{
    ValueTask<long> SpentOnAsync(string keyId, DateOnly day, CancellationToken cancellationToken);
}

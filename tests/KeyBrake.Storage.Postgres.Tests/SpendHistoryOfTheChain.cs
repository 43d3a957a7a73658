using KeyBrake.Audit;
using KeyBrake.Spend;
using Microsoft.Extensions.DependencyInjection;

namespace KeyBrake.Storage.Postgres.Tests;

/// <summary>
/// The ledger reads a day's opening figure from the chain through <see cref="ISpendHistory"/> (the engine registers
/// <see cref="AuditSpendHistory"/> over <see cref="IAuditReader"/>). Until the PostgreSQL audit reader is registered
/// by the engine, the chain of these fresh databases is empty, which spends nothing: say so, and only then.
/// </summary>
internal static class SpendHistoryOfTheChain
{
    public static void UntilTheAuditReaderIsRegistered(IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(IAuditReader)))
        {
            services.AddSingleton<ISpendHistory>(new Recorded(0));
        }
    }

    /// <summary>A chain that recorded <paramref name="spent"/> for every key and day; counts how often it was read.</summary>
    public sealed class Recorded(long spent) : ISpendHistory
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public ValueTask<long> SpentOnAsync(string keyId, DateOnly day, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            return ValueTask.FromResult(spent);
        }
    }
}

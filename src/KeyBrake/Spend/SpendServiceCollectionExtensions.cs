namespace KeyBrake.Spend;

internal static class SpendServiceCollectionExtensions
{
    /// <summary>The spend step and today's in-memory ledger; the vendors' pricing (Pricer, lookups) comes from AddKeyBrakeVendors.</summary>
    public static IServiceCollection AddKeyBrakeSpend(this IServiceCollection services)
    {
        services.AddSingleton<ISpendHistory, AuditSpendHistory>();
        services.AddSingleton<ISpendLedger, SpendLedger>();
        services.AddSingleton<ISpendGate, SpendGate>();
        return services;
    }
}

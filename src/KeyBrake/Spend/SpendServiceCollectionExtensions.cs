namespace KeyBrake.Spend;

internal static class SpendServiceCollectionExtensions
{
    /// <summary>
    /// The spend step. The ledger (<see cref="ISpendLedger"/>) is the store's, registered with its engine; the vendors'
    /// pricing (Pricer, lookups) comes from AddKeyBrakeVendors.
    /// </summary>
    public static IServiceCollection AddKeyBrakeSpend(this IServiceCollection services)
    {
        services.AddSingleton<ISpendGate, SpendGate>();
        return services;
    }
}

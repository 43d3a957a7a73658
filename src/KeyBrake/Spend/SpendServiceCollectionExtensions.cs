namespace KeyBrake.Spend;

internal static class SpendServiceCollectionExtensions
{
    public static IServiceCollection AddKeyBrakeSpend(this IServiceCollection services)
    {
        services.AddSingleton<ISpendGate, UnmeteredSpendGate>();
        return services;
    }
}

using KeyBrake.Spend.Pricing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace KeyBrake.Spend;

internal static class SpendServiceCollectionExtensions
{
    public static IServiceCollection AddKeyBrakeSpend(this IServiceCollection services)
    {
        services.AddSingleton(sp => new Pricer(sp.GetRequiredService<IOptions<KeyBrakeOptions>>().Value.Pricing));
        services.AddSingleton<ISpendHistory, AuditSpendHistory>();
        services.AddSingleton<SpendLedger>();
        services.AddSingleton<StripeObjects>();
        services.AddHttpClient(StripeObjects.ClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        services.TryAddSingleton<ISpendGate, MeteredSpendGate>();
        return services;
    }
}

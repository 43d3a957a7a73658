using KeyBrake.Spend.Pricing;
using Microsoft.Extensions.Options;

namespace KeyBrake.Vendors;

internal static class VendorsServiceCollectionExtensions
{
    /// <summary>The vendors' pricing for the spend step, and whatever each profile needs besides.</summary>
    public static IServiceCollection AddKeyBrakeVendors(this IServiceCollection services)
    {
        services.AddSingleton(sp => VendorProfiles.CreatePricer(sp.GetRequiredService<IOptions<KeyBrakeOptions>>().Value.Pricing));
        foreach (var profile in VendorProfiles.All)
        {
            profile.AddServices?.Invoke(services);
        }
        return services;
    }
}

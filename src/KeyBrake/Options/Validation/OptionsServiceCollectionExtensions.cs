using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace KeyBrake;

internal static class OptionsServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="KeyBrakeOptions"/> bound from the <c>KeyBrake</c> section (durations through <see cref="OptionsBinding"/>)
    /// and validated at start by every section's validator at once (SPEC §2).
    /// </summary>
    public static IServiceCollection AddKeyBrakeOptions(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(KeyBrakeOptions.Section);
        services.AddOptionsWithValidateOnStart<KeyBrakeOptions>().Configure(options => OptionsBinding.Bind(section, options));
        services.AddSingleton<IOptionsChangeTokenSource<KeyBrakeOptions>>(new ConfigurationChangeTokenSource<KeyBrakeOptions>(section));
        // In the order their errors are listed.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsSectionValidator, VendorsOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsSectionValidator, SecretsOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsSectionValidator, KeysOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsSectionValidator, StorageOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsSectionValidator, ProxyOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsSectionValidator, AuditOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsSectionValidator, PricingOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsSectionValidator, AdminOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KeyBrakeOptions>, KeyBrakeOptionsValidator>());
        return services;
    }
}

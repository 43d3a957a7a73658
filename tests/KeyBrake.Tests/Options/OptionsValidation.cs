using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace KeyBrake.Tests;

/// <summary>Binding and validating <see cref="KeyBrakeOptions"/> as the host does (<c>AddKeyBrakeOptions</c>).</summary>
internal static class OptionsValidation
{
    /// <summary>The validator the host registers: every section's, in order, reading durations that do not parse from <paramref name="configuration"/>.</summary>
    public static KeyBrakeOptionsValidator Validator(IConfiguration? configuration = null)
    {
        configuration ??= new ConfigurationBuilder().Build();
        using var services = new ServiceCollection().AddSingleton(configuration).AddKeyBrakeOptions(configuration).BuildServiceProvider();
        return Assert.Single(services.GetServices<IValidateOptions<KeyBrakeOptions>>().OfType<KeyBrakeOptionsValidator>());
    }

    /// <summary>The <c>KeyBrake</c> section bound as the host binds it.</summary>
    public static KeyBrakeOptions Bind(IConfiguration configuration) =>
        OptionsBinding.Get<KeyBrakeOptions>(configuration.GetSection(KeyBrakeOptions.Section));

    /// <summary>Configuration from the documented defaults, then <paramref name="settings"/>.</summary>
    public static IConfigurationRoot Configuration(IEnumerable<KeyValuePair<string, string?>>? settings = null) =>
        new ConfigurationBuilder().AddInMemoryCollection(KeyBrakeHostExtensions.Defaults).AddInMemoryCollection(settings ?? []).Build();

    /// <summary>The documented defaults, bound.</summary>
    public static KeyBrakeOptions Defaults() => Bind(Configuration());

    /// <summary>What one section's validator reports, alone.</summary>
    public static List<string> Errors(this IOptionsSectionValidator validator, KeyBrakeOptions options)
    {
        var errors = new List<string>();
        validator.Validate(options, errors);
        return errors;
    }
}

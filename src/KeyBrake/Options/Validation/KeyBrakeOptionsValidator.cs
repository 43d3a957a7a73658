using Microsoft.Extensions.Options;

namespace KeyBrake;

/// <summary>
/// SPEC §2: a bad configuration stops the process with every error listed (Program.cs exits 2): the durations whose
/// text is not one (<see cref="OptionsBinding"/> left their defaults in place), then every section's rules.
/// </summary>
internal sealed class KeyBrakeOptionsValidator(IEnumerable<IOptionsSectionValidator> sections, IConfiguration configuration)
    : IValidateOptions<KeyBrakeOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyBrakeOptions options)
    {
        var errors = OptionsBinding.Unreadable(configuration.GetSection(KeyBrakeOptions.Section), typeof(KeyBrakeOptions)).ToList();
        foreach (var section in sections)
        {
            section.Validate(options, errors);
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

namespace KeyBrake;

/// <summary><c>KeyBrake:Keys</c> (SPEC §2–§3): key lives are positive, and the default life no longer than the longest.</summary>
internal sealed class KeysOptionsValidator : IOptionsSectionValidator
{
    public void Validate(KeyBrakeOptions options, ICollection<string> errors)
    {
        var keys = options.Keys;
        DurationRanges.Validate("KeyBrake:Keys", keys, errors);
        if (keys.MaxTtl > TimeSpan.Zero && keys.DefaultTtl > keys.MaxTtl)
        {
            errors.Add($"KeyBrake:Keys:DefaultTtl: '{Duration.Format(keys.DefaultTtl)}' must be a positive duration no longer than MaxTtl.");
        }
    }
}

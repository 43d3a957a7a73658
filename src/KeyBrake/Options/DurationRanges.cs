using System.Reflection;

namespace KeyBrake;

/// <summary>Checks an options record's durations against their <see cref="DurationRangeAttribute"/>s.</summary>
internal static class DurationRanges
{
    /// <summary>Adds <c>{path}:{Name}: '{value}' {rule}.</c> for each duration of <paramref name="section"/> out of its range.</summary>
    public static void Validate(string path, object section, ICollection<string> errors)
    {
        foreach (var property in section.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<DurationRangeAttribute>() is { } range && property.GetValue(section) is TimeSpan value
                && !range.Allows(value))
            {
                errors.Add($"{path}:{property.Name}: '{Duration.Format(value)}' {range.Describe()}.");
            }
        }
    }

    /// <summary>The rule a text that is not a duration breaks: its range's, else "is not a duration".</summary>
    public static string Requirement(PropertyInfo? property) =>
        property?.GetCustomAttribute<DurationRangeAttribute>()?.Describe() ?? "is not a duration";
}

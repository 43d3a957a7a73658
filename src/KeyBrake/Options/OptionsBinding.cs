using System.Globalization;
using System.Reflection;

namespace KeyBrake;

/// <summary>
/// Binds an options record as the configuration binder does, except its durations (SPEC §2: <c>90s</c>, <c>30m</c>,
/// <c>4h</c>, <c>7d</c>, <c>0</c>, <c>hh:mm:ss</c>): every <see cref="TimeSpan"/> property is read through
/// <see cref="Duration"/>, the one converter. A text that is not a duration leaves the record's default in place
/// instead of throwing out of the binder (a stack trace, one error at a time); <see cref="Unreadable"/> names it, and
/// <see cref="KeyBrakeOptionsValidator"/> lists it with every other error (exit 2).
/// </summary>
internal static class OptionsBinding
{
    public static T Get<T>(IConfigurationSection section)
        where T : class, new()
    {
        var options = new T();
        Bind(section, options);
        return options;
    }

    public static void Bind(IConfigurationSection section, object options)
    {
        // The binder reads a TimeSpan as hh:mm:ss only: it binds a copy of the section in which each duration is
        // written that way, or left out when it is not a duration.
        var settings = section.AsEnumerable(makePathsRelative: true).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
        foreach (var (at, text, _) in Durations(section, options.GetType()))
        {
            var key = at[(section.Path.Length + 1)..];
            if (Duration.TryParseConfig(text, out var value))
            {
                settings[key] = value.ToString("c", CultureInfo.InvariantCulture);
            }
            else
            {
                settings.Remove(key);
            }
        }
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().Bind(options);
    }

    /// <summary>Every duration under <paramref name="section"/> whose text is not one: <c>{key}: '{text}' {rule}.</c></summary>
    public static IEnumerable<string> Unreadable(IConfigurationSection section, Type type) =>
        from d in Durations(section, type)
        where !Duration.TryParseConfig(d.Text, out _)
        select $"{d.Key}: '{d.Text}' {DurationRanges.Requirement(d.Property)}.";

    /// <summary>The configured text of each <see cref="TimeSpan"/> property of <paramref name="type"/>, nested records and dictionaries of them included.</summary>
    private static IEnumerable<(string Key, string Text, PropertyInfo Property)> Durations(IConfigurationSection section, Type type)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var child = section.GetSection(property.Name);
            var propertyType = property.PropertyType;
            if (propertyType == typeof(TimeSpan) || propertyType == typeof(TimeSpan?))
            {
                if (child.Value is { } text)
                {
                    yield return (child.Path, text, property);
                }
            }
            else if (IsOptionsRecord(propertyType))
            {
                foreach (var duration in Durations(child, propertyType))
                {
                    yield return duration;
                }
            }
            else if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>)
                && propertyType.GetGenericArguments()[1] is var entryType && IsOptionsRecord(entryType))
            {
                foreach (var entry in child.GetChildren())
                {
                    foreach (var duration in Durations(entry, entryType))
                    {
                        yield return duration;
                    }
                }
            }
        }
    }

    private static bool IsOptionsRecord(Type type) => type.IsClass && type.Assembly == typeof(OptionsBinding).Assembly;
}

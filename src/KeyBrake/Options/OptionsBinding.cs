using System.ComponentModel;
using System.Globalization;
using System.Reflection;

namespace KeyBrake;

/// <summary>
/// Binds an options record as the configuration binder does, except that no text can make it throw, and durations
/// (SPEC §2: <c>90s</c>, <c>30m</c>, <c>4h</c>, <c>7d</c>, <c>0</c>, <c>hh:mm:ss</c>) are read through
/// <see cref="Duration"/>, the one converter. A text that does not convert to its property's type leaves the record's
/// default in place instead of throwing out of the binder (a stack trace, one error at a time); <see cref="Unreadable"/>
/// names it, and <see cref="KeyBrakeOptionsValidator"/> lists it with every other error (exit 2).
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
        // The binder reads a TimeSpan as hh:mm:ss only, and throws at the first text it cannot convert: it binds a copy
        // of the section in which each duration is written hh:mm:ss, and each unreadable text is left out.
        var settings = section.AsEnumerable(makePathsRelative: true).ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
        foreach (var setting in Settings(section, options.GetType()))
        {
            var key = setting.Key[(section.Path.Length + 1)..];
            if (!TryRead(setting, out var readable))
            {
                settings.Remove(key);
            }
            else if (readable is TimeSpan duration)
            {
                settings[key] = duration.ToString("c", CultureInfo.InvariantCulture);
            }
        }
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().Bind(options);
    }

    /// <summary>Every text under <paramref name="section"/> that does not convert: <c>{key}: '{text}' {rule}.</c></summary>
    public static IEnumerable<string> Unreadable(IConfigurationSection section, Type type) =>
        from setting in Settings(section, type)
        where !TryRead(setting, out _)
        select $"{setting.Key}: '{setting.Text}' {Rule(setting)}.";

    private static bool TryRead(Setting setting, out object? value)
    {
        var type = Nullable.GetUnderlyingType(setting.Type) ?? setting.Type;
        if (type == typeof(TimeSpan))
        {
            var ok = Duration.TryParseConfig(setting.Text, out var duration);
            value = duration;
            return ok;
        }
        value = setting.Text;
        if (type == typeof(string) || (setting.Text.Length == 0 && type != setting.Type))
        {
            return true; // the binder leaves an empty nullable unset
        }
        try
        {
            value = TypeDescriptor.GetConverter(type).ConvertFromInvariantString(setting.Text); // what the binder calls
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            return false;
        }
    }

    private static string Rule(Setting setting) => (Nullable.GetUnderlyingType(setting.Type) ?? setting.Type) switch
    {
        var t when t == typeof(TimeSpan) => DurationRanges.Requirement(setting.Property),
        var t when t == typeof(bool) => "must be true or false",
        var t when t == typeof(int) || t == typeof(long) => "must be a whole number",
        var t => $"is not a {t.Name}",
    };

    /// <summary>Each configured scalar the binder would set: properties of <paramref name="type"/>, nested records, dictionary and array entries.</summary>
    private static IEnumerable<Setting> Settings(IConfigurationSection section, Type type) =>
        from property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        where property.GetIndexParameters().Length == 0
        from setting in Values(section.GetSection(property.Name), property.PropertyType, property)
        select setting;

    private static IEnumerable<Setting> Values(IConfigurationSection at, Type type, PropertyInfo? property)
    {
        if (IsScalar(type))
        {
            return property is { CanWrite: false } || at.Value is not { } text ? [] : [new Setting(at.Path, text, type, property)];
        }
        if (type.IsClass && type.Assembly == typeof(OptionsBinding).Assembly)
        {
            return Settings(at, type);
        }
        var entry = type.IsArray ? type.GetElementType()
            : type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) ? type.GetGenericArguments()[1]
            : null;
        return entry is null ? [] : at.GetChildren().SelectMany(child => Values(child, entry, null));
    }

    private static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan);
    }

    private sealed record Setting(string Key, string Text, Type Type, PropertyInfo? Property);
}

using System.Globalization;

namespace KeyBrake;

/// <summary>Durations as operators write them: <c>90s</c>, <c>30m</c>, <c>4h</c>, <c>7d</c>; configuration also accepts <c>hh:mm:ss</c> and <c>0</c>.</summary>
internal static class Duration
{
    public static bool TryParseShort(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrEmpty(text) || text.Length < 2 || text.Length > 12)
        {
            return false;
        }
        var unit = text[^1];
        var digits = text.AsSpan(0, text.Length - 1);
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return false;
        }
        long seconds = unit switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86400, _ => 0 };
        if (seconds == 0 || n > 3650L * 86400 / seconds)
        {
            return false;
        }
        value = TimeSpan.FromSeconds(n * seconds);
        return true;
    }

    public static bool TryParseConfig(string? text, out TimeSpan value)
    {
        if (text == "0")
        {
            value = TimeSpan.Zero;
            return true;
        }
        return TryParseShort(text, out value)
            || (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero);
    }

    public static TimeSpan ParseConfig(string text) =>
        TryParseConfig(text, out var value) ? value : throw new FormatException($"'{text}' is not a duration.");

    /// <summary>For messages: the largest whole unit (<c>7d</c>, <c>5m</c>, <c>90s</c>, <c>500 ms</c>), else <c>d.hh:mm:ss.fffffff</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0";
        }
        foreach (var (unit, ticks) in Units)
        {
            if (value.Ticks % ticks == 0)
            {
                return (value.Ticks / ticks).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }
        return value.ToString("c", CultureInfo.InvariantCulture);
    }

    private static readonly (string Unit, long Ticks)[] Units =
        [("d", TimeSpan.TicksPerDay), ("h", TimeSpan.TicksPerHour), ("m", TimeSpan.TicksPerMinute), ("s", TimeSpan.TicksPerSecond), (" ms", TimeSpan.TicksPerMillisecond)];
}

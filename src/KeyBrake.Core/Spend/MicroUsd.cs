using System.Globalization;

namespace KeyBrake.Spend;

/// <summary>Money as integer micro-USD. Never a double.</summary>
public readonly record struct MicroUsd(long Value)
{
    public const long PerUsd = 1_000_000;

    /// <summary>The largest cap accepted: one billion USD.</summary>
    public static readonly MicroUsd MaxCap = new(1_000_000_000L * PerUsd);

    /// <summary>Exact conversion of a JSON number with at most 6 decimals.</summary>
    public static bool TryFromUsd(decimal usd, out MicroUsd value)
    {
        value = default;
        var micros = usd * PerUsd;
        if (micros != decimal.Truncate(micros) || micros < 0 || micros > MaxCap.Value)
        {
            return false;
        }
        value = new MicroUsd((long)micros);
        return true;
    }

    public decimal ToUsd() => (decimal)Value / PerUsd;

    public override string ToString() => ToUsd().ToString("0.######", CultureInfo.InvariantCulture);
}

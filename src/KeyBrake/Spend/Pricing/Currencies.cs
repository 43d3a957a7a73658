using System.Globalization;

namespace KeyBrake.Spend.Pricing;

/// <summary>Minor-unit amounts in any configured currency to micro-USD, in integers, rounded up (a cap is never under-counted).</summary>
internal sealed class Currencies(PricingOptions options)
{
    /// <summary>Larger minor-unit amounts are refused as absurd (Stripe's own limit is 8 digits).</summary>
    public const long MaxAmountMinor = 999_999_999_999;

    private readonly HashSet<string> _zeroDecimal = Split(options.ZeroDecimalCurrencies);
    private readonly HashSet<string> _threeDecimal = Split(options.ThreeDecimalCurrencies);

    /// <summary>
    /// Parses a minor-unit amount: ASCII digits only (no sign, space, decimals or exponent) and no leading zero, which
    /// some parsers read as octal (SPEC §5 one reading); at most <see cref="MaxAmountMinor"/>.
    /// </summary>
    public static bool TryParseAmount(string? text, out long amount, out string? error)
    {
        amount = 0;
        error = null;
        if (string.IsNullOrEmpty(text) || text.Length > 12 || !text.All(char.IsAsciiDigit) || (text.Length > 1 && text[0] == '0'))
        {
            error = $"amount '{(text?.Length > 20 ? text[..20] + "…" : text)}' must be a non-negative integer in minor units, digits only with no leading zero (at most {MaxAmountMinor})";
            return false;
        }
        amount = long.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return true;
    }

    public bool TryToMicroUsd(long amountMinor, string? currency, out MicroUsd value, out string? error)
    {
        value = default;
        error = null;
        // Three ASCII letters exactly: no spaces a vendor might trim differently.
        var code = currency is { Length: 3 } && currency.All(char.IsAsciiLetter) ? currency.ToLowerInvariant() : null;
        if (code is null || !options.Fx.TryGetValue(code, out var microsPerMajor))
        {
            error = code is null
                ? $"currency '{(currency?.Length > 20 ? currency[..20] + "…" : currency)}' is not a three-letter code"
                : $"currency '{code}' has no configured FX rate (KeyBrake:Pricing:Fx:{code})";
            return false;
        }
        var decimals = _zeroDecimal.Contains(code) ? 0 : _threeDecimal.Contains(code) ? 3 : 2;
        var divisor = decimals switch { 0 => 1, 3 => 1000, _ => 100 };
        var micros = ((Int128)amountMinor * microsPerMajor + divisor - 1) / divisor; // ceiling
        if (micros > MicroUsd.MaxCap.Value)
        {
            error = $"{amountMinor} {code} is more than any cap can hold";
            return false;
        }
        value = new MicroUsd((long)micros);
        return true;
    }

    private static HashSet<string> Split(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c => c.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
}

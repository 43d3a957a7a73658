using System.Text.RegularExpressions;

namespace KeyBrake;

/// <summary><c>KeyBrake:Pricing</c> (SPEC §5): FX rates, currency exponents, per-unit prices, the operator's free writes.</summary>
internal sealed partial class PricingOptionsValidator : IOptionsSectionValidator
{
    public void Validate(KeyBrakeOptions options, ICollection<string> errors)
    {
        var pricing = options.Pricing;
        foreach (var (currency, micros) in pricing.Fx)
        {
            if (!CurrencyCode().IsMatch(currency) || micros is < 1 or > 100_000_000_000)
            {
                errors.Add($"KeyBrake:Pricing:Fx:{currency}: a lower-case ISO 4217 code with 1-100000000000 micro-USD per major unit.");
            }
        }
        foreach (var (name, list) in new[] { ("ZeroDecimalCurrencies", pricing.ZeroDecimalCurrencies), ("ThreeDecimalCurrencies", pricing.ThreeDecimalCurrencies) })
        {
            if (list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Any(c => !CurrencyCode().IsMatch(c)))
            {
                errors.Add($"KeyBrake:Pricing:{name}: '{list}' must be comma-separated lower-case ISO 4217 codes.");
            }
        }
        foreach (var (name, micros) in new[]
        {
            ("Twilio:SegmentMicros", pricing.Twilio.SegmentMicros), ("Twilio:MmsMicros", pricing.Twilio.MmsMicros),
            ("Twilio:CallMicros", pricing.Twilio.CallMicros), ("Twilio:PhoneNumberMicros", pricing.Twilio.PhoneNumberMicros),
            ("Resend:EmailMicros", pricing.Resend.EmailMicros),
        })
        {
            if (micros is < 0 or > 1_000_000_000)
            {
                errors.Add($"KeyBrake:Pricing:{name}: {micros} must be 0-1000000000 micro-USD.");
            }
        }
        // SPEC §5: an operator's free writes are allowlist patterns (§4 step 5); every bad one is listed.
        foreach (var (vendor, patterns) in pricing.FreeWrites)
        {
            for (var i = 0; i < patterns.Length; i++)
            {
                if (!Policy.EndpointPattern.TryParse(patterns[i], out _, out var error))
                {
                    errors.Add($"KeyBrake:Pricing:{vendor}:FreeWrites:{i}: '{patterns[i]}': {error}");
                }
            }
        }
    }

    [GeneratedRegex("^[a-z]{3}$")]
    private static partial Regex CurrencyCode();
}

namespace KeyBrake.Spend.Pricing;

/// <summary>
/// Stripe (SPEC §5): money moved, in USD. Creating payment intents, charges, refunds, transfers, payouts and top-ups
/// moves the request's amount; confirm, capture, increment and invoice pay move an amount that may only be known
/// upstream, so they name the object to look up. Every other call costs 0.
/// </summary>
internal sealed class StripePricing(Currencies currencies)
{
    private static readonly HashSet<string> Creations = ["/v1/payment_intents", "/v1/charges", "/v1/transfers", "/v1/payouts", "/v1/topups"];

    public Price Price(string method, string path, Func<(RequestFields? Fields, string? Error)> read)
    {
        if (method != "POST")
        {
            return Pricing.Price.Free;
        }
        var s = path.Split('/'); // "", "v1", resource, id, action
        var lookup = (s.Length, s.Length > 2 ? s[2] : null, s.Length > 4 ? s[4] : null) switch
        {
            (5, "payment_intents", "confirm") => new StripeLookup($"/v1/payment_intents/{s[3]}", "amount", null),
            (5, "payment_intents", "capture") => new StripeLookup($"/v1/payment_intents/{s[3]}", "amount_capturable", null),
            (5, "payment_intents", "increment_authorization") => new StripeLookup($"/v1/payment_intents/{s[3]}", "amount", null),
            (5, "charges", "capture") => new StripeLookup($"/v1/charges/{s[3]}", "amount", null),
            (5, "invoices", "pay") => new StripeLookup($"/v1/invoices/{s[3]}", "amount_remaining", null),
            _ => null,
        };
        var isRefund = path == "/v1/refunds";
        if (lookup is null && !isRefund && !Creations.Contains(path))
        {
            return Pricing.Price.Free;
        }

        var (fields, error) = read();
        if (fields is null || fields.Unparsed)
        {
            return Pricing.Price.Unpriceable(error ?? "the body must be form-encoded (application/x-www-form-urlencoded) to be priced");
        }
        var amountName = s.Length == 5 && s[4] == "capture" && s[2] == "payment_intents" ? "amount_to_capture" : "amount";
        if (!fields.TryGetSingle(amountName, out var amountText, out error) || !fields.TryGetSingle("currency", out var currency, out error))
        {
            return Pricing.Price.Unpriceable(error!);
        }
        long? amount = null;
        if (amountText is not null)
        {
            if (!Currencies.TryParseAmount(amountText, out var parsed, out error))
            {
                return Pricing.Price.Unpriceable(error!);
            }
            amount = parsed;
        }

        if (isRefund)
        {
            // A refund names its charge or payment intent; its currency (and, without an amount, its size) is theirs.
            if (!fields.TryGetSingle("charge", out var charge, out error) || !fields.TryGetSingle("payment_intent", out var intent, out error))
            {
                return Pricing.Price.Unpriceable(error!);
            }
            if ((charge is null) == (intent is null) || !IsId(charge ?? intent!))
            {
                return Pricing.Price.Unpriceable("a refund must name exactly one valid 'charge' or 'payment_intent'");
            }
            lookup = new StripeLookup(charge is not null ? $"/v1/charges/{charge}" : $"/v1/payment_intents/{intent}", "amount", null);
        }
        if (lookup is not null)
        {
            return new Price(default, AmountMinor: amount, Lookup: lookup with { RequestAmountMinor = amount });
        }
        if (amount is null || currency is null)
        {
            return Pricing.Price.Unpriceable($"POST {path} moves money and needs an 'amount' and a 'currency'");
        }
        return currencies.TryToMicroUsd(amount.Value, currency, out var usd, out error)
            ? new Price(usd, currency!.ToLowerInvariant(), amount)
            : Pricing.Price.Unpriceable(error!);
    }

    private static bool IsId(string id) => id.Length is > 3 and <= 255 && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}

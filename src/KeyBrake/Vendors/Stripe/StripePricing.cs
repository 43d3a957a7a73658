using KeyBrake.Spend;
using KeyBrake.Spend.Pricing;

namespace KeyBrake.Vendors.Stripe;

/// <summary>
/// Stripe (SPEC §5): money moved, in USD. Creating payment intents, charges, transfers, payouts and top-ups moves the
/// request's amount; refunds, confirm, capture, increment and invoice pay move an amount that may only be known
/// upstream, so they name the object to look up. The writes below known to move no money cost 0; every other write
/// is 422 until an operator lists it in <c>KeyBrake:Pricing:stripe:FreeWrites</c>.
/// </summary>
internal sealed class StripePricing(Currencies currencies, StripePricingOptions options) : IVendorPricing
{
    /// <summary>
    /// How a priced path is priced: <paramref name="AmountField"/> of the request, else <paramref name="LookupField"/>
    /// of the object the path acts on (its first three segments), read upstream; a refund names its object in the body.
    /// </summary>
    private sealed record Rule(string AmountField = "amount", string? LookupField = null, bool Refund = false);

    private static readonly (string, Rule)[] Priced =
    [
        ("POST /v1/payment_intents", new()),
        ("POST /v1/charges", new()),
        ("POST /v1/transfers", new()),
        ("POST /v1/payouts", new()),
        ("POST /v1/topups", new()),
        ("POST /v1/refunds", new(Refund: true)),
        ("POST /v1/payment_intents/*/confirm", new(LookupField: "amount")),
        ("POST /v1/payment_intents/*/capture", new(AmountField: "amount_to_capture", LookupField: "amount_capturable")),
        ("POST /v1/payment_intents/*/increment_authorization", new(LookupField: "amount")),
        ("POST /v1/charges/*/capture", new(LookupField: "amount")),
        ("POST /v1/invoices/*/pay", new(LookupField: "amount_remaining")),
    ];

    /// <summary>
    /// Writes that cannot move money by themselves. Left out on purpose (422 unless listed): subscriptions, invoices,
    /// invoice items and finalize/send (an invoice auto-advances to a charge), payment intent update (it changes what a
    /// later confirm or capture moves, racing its lookup), apply_customer_balance, customer balance and cash-balance
    /// transactions, checkout sessions and payment links (they collect money KeyBrake cannot price before the payer
    /// pays), the legacy <c>/v1/charges/{id}/refund(s)</c>, ephemeral keys, and everything else.
    /// </summary>
    private static readonly string[] Free =
    [
        "POST /v1/customers",
        "POST /v1/customers/*",
        "DELETE /v1/customers/*",
        "POST /v1/customers/*/sources",
        "POST /v1/customers/*/sources/*",
        "DELETE /v1/customers/*/sources/*",
        "POST /v1/customers/*/tax_ids",
        "DELETE /v1/customers/*/tax_ids/*",
        "POST /v1/products",
        "POST /v1/products/*",
        "DELETE /v1/products/*",
        "POST /v1/prices",
        "POST /v1/prices/*",
        "POST /v1/payment_methods",
        "POST /v1/payment_methods/*",
        "POST /v1/payment_methods/*/attach",
        "POST /v1/payment_methods/*/detach",
        "POST /v1/setup_intents",
        "POST /v1/setup_intents/*",
        "POST /v1/setup_intents/*/confirm",
        "POST /v1/setup_intents/*/cancel",
        "POST /v1/payment_intents/*/cancel",
        "POST /v1/charges/*",
        "POST /v1/refunds/*",
        "POST /v1/refunds/*/cancel",
    ];

    private readonly WriteTable<Rule> _writes = new(StripeProfile.VendorName, Priced, Free, options.FreeWrites);

    public string Vendor => StripeProfile.VendorName;

    public Price Price(string method, string path, Func<(RequestFields? Fields, string? Error)> read)
    {
        if (!_writes.TryPriced(method, path, out var rule))
        {
            return _writes.FreeOrUnpriceable(method, path);
        }
        var (fields, error) = read();
        if (fields is null || fields.Unparsed || fields.Json is not null)
        {
            return Spend.Pricing.Price.Unpriceable(error ?? "Stripe reads form-encoded bodies only (application/x-www-form-urlencoded), so only those are priced");
        }
        if (fields.Repeated() is { } repeated)
        {
            return Spend.Pricing.Price.Unpriceable(repeated);
        }
        if (!fields.TryGetSingle(rule.AmountField, out var amountText, out error) || !fields.TryGetSingle("currency", out var currency, out error))
        {
            return Spend.Pricing.Price.Unpriceable(error!);
        }
        long? amount = null;
        if (amountText is not null)
        {
            if (!Currencies.TryParseAmount(amountText, out var parsed, out error))
            {
                return Spend.Pricing.Price.Unpriceable(error!);
            }
            amount = parsed;
        }

        UpstreamLookup? lookup = null;
        if (rule.Refund)
        {
            // A refund names its charge or payment intent; its currency (and, without an amount, its size) is theirs.
            if (!fields.TryGetSingle("charge", out var charge, out error) || !fields.TryGetSingle("payment_intent", out var intent, out error))
            {
                return Spend.Pricing.Price.Unpriceable(error!);
            }
            if ((charge is null) == (intent is null) || !IsId(charge ?? intent!))
            {
                return Spend.Pricing.Price.Unpriceable("a refund must name exactly one valid 'charge' or 'payment_intent'");
            }
            lookup = new UpstreamLookup(charge is not null ? $"/v1/charges/{charge}" : $"/v1/payment_intents/{intent}", "amount", amount);
        }
        else if (rule.LookupField is { } field)
        {
            lookup = new UpstreamLookup(path[..path.LastIndexOf('/')], field, amount);
        }
        if (lookup is not null)
        {
            return new Price(default, AmountMinor: amount, Lookup: lookup);
        }
        if (amount is null || currency is null)
        {
            return Spend.Pricing.Price.Unpriceable($"POST {path} moves money and needs an 'amount' and a 'currency'");
        }
        return currencies.TryToMicroUsd(amount.Value, currency, out var usd, out error)
            ? new Price(usd, currency.ToLowerInvariant(), amount)
            : Spend.Pricing.Price.Unpriceable(error!);
    }

    private static bool IsId(string id) => id.Length is > 3 and <= 255 && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}

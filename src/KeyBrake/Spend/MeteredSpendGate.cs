using KeyBrake.Keys;
using KeyBrake.Proxy;
using KeyBrake.Spend.Pricing;

namespace KeyBrake.Spend;

/// <summary>
/// SPEC §4 step 7 and §5: price the call, reserve it atomically against today's cap (402 <c>daily_cap_exceeded</c>
/// with the figures), refuse what moves money but cannot be priced (422 <c>unpriceable_request</c>), then settle from
/// the response: 2xx counts (0 for Stripe's <c>Idempotent-Replayed: true</c>), 4xx is released, 5xx / time-out /
/// broken connection counts as in doubt.
/// </summary>
internal sealed class MeteredSpendGate(Pricer pricer, StripeObjects stripe, SpendLedger ledger) : ISpendGate
{
    public async ValueTask<SpendReservation> ReserveAsync(VaultKey key, HttpContext context, CancellationToken cancellationToken)
    {
        var call = context.Features.Get<ProxyCall>()!;
        var price = pricer.Price(call.Vendor, context.Request.Method, call.Path, () => call.ReadFields(context.Request));
        if (price.Lookup is { } lookup && price.Refusal is null)
        {
            price = LookupAccount(context.Request.Headers, key, out var account) is { } refusal
                ? refusal
                : await stripe.PriceAsync(call.Vendor, lookup, account, cancellationToken);
        }
        if (price.Refusal is { } why)
        {
            return new SpendReservation(default, default, new KeyBrakeError(StatusCodes.Status422UnprocessableEntity, "unpriceable_request",
                $"This call can move money but cannot be priced: {why}.")) { Price = price };
        }
        var reservation = ledger.TryReserve(key.Id, key.DailyCapMicros, price.Estimate, out var figures);
        if (reservation is null)
        {
            var (cap, spent, reserved, requested) = (new MicroUsd(key.DailyCapMicros), new MicroUsd(figures.SpentMicros), new MicroUsd(figures.ReservedMicros), price.Estimate);
            return new SpendReservation(price.Estimate, default, new KeyBrakeError(StatusCodes.Status402PaymentRequired, "daily_cap_exceeded",
                $"Vault key {key.Id} has ${Remaining(cap, figures)} of its ${cap} daily cap left; this call needs ${requested}.",
                writer =>
                {
                    writer.WriteNumber("cap_usd", cap.ToUsd());
                    writer.WriteNumber("spent_usd", spent.ToUsd());
                    writer.WriteNumber("reserved_usd", reserved.ToUsd());
                    writer.WriteNumber("requested_usd", requested.ToUsd());
                })) { Price = price };
        }
        return new SpendReservation(price.Estimate, Remaining(new MicroUsd(key.DailyCapMicros), figures)) { Ledger = reservation, Price = price };
    }

    public ValueTask<MicroUsd> SettleAsync(SpendReservation reservation, HttpContext context, int? upstreamStatus, CancellationToken cancellationToken)
    {
        var counted = upstreamStatus switch
        {
            null or >= 500 => reservation.Estimate, // in doubt: it may have moved money
            >= 400 => default,
            _ when context.Response.Headers["Idempotent-Replayed"] == "true" => default,
            _ => StatedPrice(context.Features.Get<ProxyCall>()) ?? reservation.Estimate,
        };
        if (reservation.Ledger is { } held)
        {
            ledger.Settle(held, counted);
        }
        return ValueTask.FromResult(counted);
    }

    public ValueTask ReleaseAsync(SpendReservation reservation, CancellationToken cancellationToken)
    {
        if (reservation.Ledger is { } held)
        {
            ledger.Release(held);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<(MicroUsd Spent, MicroUsd Reserved)> TodayAsync(VaultKey key, CancellationToken cancellationToken)
    {
        var figures = ledger.Today(key.Id);
        return ValueTask.FromResult((new MicroUsd(figures.SpentMicros), new MicroUsd(figures.ReservedMicros)));
    }

    /// <summary>Twilio states what a message or call cost as <c>"price": "-0.00750", "price_unit": "USD"</c>, once known.</summary>
    private static MicroUsd? StatedPrice(ProxyCall? call)
    {
        if (call?.ResponseJson is not { } json || call.Vendor != "twilio")
        {
            return null;
        }
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != System.Text.Json.JsonValueKind.Object
                || !root.TryGetProperty("price", out var price) || price.ValueKind != System.Text.Json.JsonValueKind.String
                || !decimal.TryParse(price.GetString(), System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out var amount))
            {
                return null;
            }
            var unit = root.TryGetProperty("price_unit", out var u) && u.ValueKind == System.Text.Json.JsonValueKind.String ? u.GetString()! : "USD";
            // Only a USD price settles exactly; any other unit keeps the estimate (the cap is in USD).
            return string.Equals(unit, "USD", StringComparison.OrdinalIgnoreCase)
                ? new MicroUsd((long)decimal.Round(Math.Abs(amount) * MicroUsd.PerUsd, 0, MidpointRounding.ToPositiveInfinity))
                : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>
    /// The <c>Stripe-Account</c> the lookup reads on: the one the call acts on. The proxy has refused any value not in
    /// the key's <c>stripe_accounts</c> before pricing (SPEC §4 step 10); checked again so a lookup never reads, with
    /// the platform's secret, an account the key may not name (fail closed).
    /// </summary>
    private static Price? LookupAccount(IHeaderDictionary headers, VaultKey key, out string? account)
    {
        account = null;
        if (!headers.TryGetValue(StripeAccountHeader.Name, out var values))
        {
            return null;
        }
        if (!StripeAccountHeader.IsAllowed(values, key.StripeAccounts))
        {
            return Price.Unpriceable("the Stripe-Account header is not one of the key's stripe_accounts");
        }
        account = values[0];
        return null;
    }

    private static MicroUsd Remaining(MicroUsd cap, LedgerFigures figures) =>
        new(Math.Max(0, cap.Value - figures.SpentMicros - figures.ReservedMicros));
}

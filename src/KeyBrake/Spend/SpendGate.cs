using System.Collections.Frozen;
using KeyBrake.Keys;
using KeyBrake.Spend.Pricing;

namespace KeyBrake.Spend;

/// <summary>
/// SPEC §4 step 7 and §5: price the call, reserve it atomically against today's cap (refused with the figures when it
/// would pass it), refuse what moves money but cannot be priced, then settle from the response: 2xx counts (0 for
/// Stripe's <c>Idempotent-Replayed: true</c>, the stated price when the vendor gives one), 4xx is released, 5xx /
/// time-out / broken connection counts as in doubt. Decisions only: the proxy step answers 402 / 422.
/// </summary>
internal sealed class SpendGate(Pricer pricer, IEnumerable<IPriceLookup> lookups, ISpendLedger ledger) : ISpendGate
{
    private readonly FrozenDictionary<string, IPriceLookup> _lookups = lookups.ToFrozenDictionary(l => l.Vendor, StringComparer.Ordinal);

    public async ValueTask<SpendDecision> ReserveAsync(VaultKey key, SpendRequest request, CancellationToken cancellationToken)
    {
        var price = pricer.Price(request.Vendor, request.Method, request.Path, request.ReadFields);
        if (price.Lookup is { } lookup && price.Refusal is null)
        {
            price = _lookups.TryGetValue(request.Vendor, out var reader)
                ? await reader.PriceAsync(lookup, request, key.StripeAccounts, cancellationToken)
                : Price.Unpriceable($"KeyBrake cannot read {request.Vendor} objects to price this call"); // fail closed
        }
        if (price.Refusal is not null)
        {
            return new SpendDecision(SpendVerdict.Unpriceable, request.Vendor, price);
        }
        var reservation = await ledger.ReserveAsync(key.Id, key.DailyCapMicros, price.Estimate, cancellationToken);
        return new SpendDecision(reservation.Granted ? SpendVerdict.Reserved : SpendVerdict.CapExceeded, request.Vendor, price,
            new MicroUsd(key.DailyCapMicros), reservation);
    }

    public async ValueTask<MicroUsd> SettleAsync(SpendDecision decision, int? upstreamStatus, bool replayed, byte[]? responseJson, CancellationToken cancellationToken)
    {
        var counted = upstreamStatus switch
        {
            null or >= 500 => decision.Estimate, // in doubt: it may have moved money
            >= 400 => default,
            _ when replayed => default,
            _ => (responseJson is null ? null : pricer.StatedPrice(decision.Vendor, responseJson)) ?? decision.Estimate,
        };
        if (decision.Ledger.Granted)
        {
            await ledger.SettleAsync(decision.Ledger, counted, cancellationToken);
        }
        return counted;
    }

    public ValueTask ReleaseAsync(SpendDecision decision, CancellationToken cancellationToken) =>
        decision.Ledger.Granted ? ledger.ReleaseAsync(decision.Ledger, cancellationToken) : ValueTask.CompletedTask;

    public async ValueTask<(MicroUsd Spent, MicroUsd Reserved)> TodayAsync(VaultKey key, CancellationToken cancellationToken)
    {
        var figures = await ledger.TodayAsync(key.Id, cancellationToken);
        return (new MicroUsd(figures.SpentMicros), new MicroUsd(figures.ReservedMicros));
    }
}

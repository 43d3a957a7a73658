using System.Collections.Frozen;
using System.Data.Common;
using KeyBrake.Keys;
using KeyBrake.Spend.Pricing;

namespace KeyBrake.Spend;

/// <summary>
/// SPEC §4 step 7 and §5: price the call, reserve it atomically against today's cap (refused with the figures when it
/// would pass it), refuse what moves money but cannot be priced, then settle from the response: 2xx counts (0 for
/// Stripe's <c>Idempotent-Replayed: true</c>, the stated price when the vendor gives one), 4xx is released, 5xx /
/// time-out / broken connection counts as in doubt. Decisions only: the proxy step answers 402 / 422.
/// A shared ledger (PostgreSQL) that fails to reserve throws, and the proxy refuses the call (503); one that fails to
/// settle or release keeps the reservation, which then counts against the cap as in doubt (fail closed, never over).
/// </summary>
internal sealed partial class SpendGate(Pricer pricer, IEnumerable<IPriceLookup> lookups, ISpendLedger ledger, ILogger<SpendGate> logger, Audit.AuditLog? audit = null) : ISpendGate
{
    private readonly FrozenDictionary<string, IPriceLookup> _lookups = lookups.ToFrozenDictionary(l => l.Vendor, StringComparer.Ordinal);

    /// <remarks>Synchronous when no upstream read is needed and the ledger answers at once (in memory): no task, one decision.</remarks>
    public ValueTask<SpendDecision> ReserveAsync(VaultKey key, SpendRequest request, CancellationToken cancellationToken)
    {
        var price = pricer.Price(request.Vendor, request.Method, request.Path, request.ReadFields);
        return price.Lookup is not null && price.Refusal is null
            ? LookUpThenReserveAsync(key, request, price.Lookup, cancellationToken)
            : Reserve(key, request.Vendor, price, cancellationToken);
    }

    public ValueTask<MicroUsd> SettleAsync(SpendDecision decision, int? upstreamStatus, bool replayed, byte[]? responseJson, CancellationToken cancellationToken)
    {
        var counted = upstreamStatus switch
        {
            null or >= 500 => decision.Estimate, // in doubt: it may have moved money
            >= 400 => default,
            _ when replayed => default,
            _ => (responseJson is null ? null : pricer.StatedPrice(decision.Vendor, responseJson)) ?? decision.Estimate,
        };
        if (!decision.Ledger.Granted || decision.Ledger.InChain)
        {
            return ValueTask.FromResult(counted); // in the chain: the proxy.response that states it settles it (SpendDecision.Settlement)
        }
        var settling = ledger.SettleAsync(decision.Ledger, counted, cancellationToken);
        return settling.IsCompletedSuccessfully ? ValueTask.FromResult(counted) : SettledAsync(settling, decision.Ledger, counted);
    }

    public ValueTask ReleaseAsync(SpendDecision decision, CancellationToken cancellationToken)
    {
        if (!decision.Ledger.Granted || decision.Ledger.InChain)
        {
            return ValueTask.CompletedTask; // in the chain: released by the entry that records the call (SpendDecision.Settlement)
        }
        var releasing = ledger.ReleaseAsync(decision.Ledger, cancellationToken);
        return releasing.IsCompletedSuccessfully ? ValueTask.CompletedTask : KeptIfFailedAsync(releasing, decision.Ledger);
    }

    public async ValueTask<(MicroUsd Spent, MicroUsd Reserved)> TodayAsync(VaultKey key, CancellationToken cancellationToken)
    {
        if (audit is not null)
        {
            // A ledger kept beside the chain is settled by the calls' proxy.response entries: the read waits until those
            // queued before it are committed, so a call answered before the read counts as spent, not reserved.
            await audit.SettledAsync(cancellationToken);
        }
        var figures = await ledger.TodayAsync(key.Id, cancellationToken);
        return (new MicroUsd(figures.SpentMicros), new MicroUsd(figures.ReservedMicros));
    }

    private ValueTask<SpendDecision> Reserve(VaultKey key, string vendor, Price price, CancellationToken cancellationToken)
    {
        if (price.Refusal is not null)
        {
            return ValueTask.FromResult(new SpendDecision(SpendVerdict.Unpriceable, vendor, price));
        }
        var preparing = ledger.PrepareAsync(key.Id, price.Estimate, cancellationToken);
        if (!preparing.IsCompletedSuccessfully)
        {
            return InChainAsync(key, vendor, price, preparing);
        }
        if (preparing.Result is { } prepared)
        {
            return ValueTask.FromResult(InChain(key, vendor, price, prepared));
        }
        var reserving = ledger.ReserveAsync(key.Id, key.DailyCapMicros, price.Estimate, cancellationToken);
        return reserving.IsCompletedSuccessfully
            ? ValueTask.FromResult(Decide(key, vendor, price, reserving.Result))
            : DecideAsync(key, vendor, price, reserving);
    }

    /// <summary>A ledger kept beside the chain: prepared here, decided with the call's <c>proxy.request</c> (step 8).</summary>
    private static async ValueTask<SpendDecision> InChainAsync(VaultKey key, string vendor, Price price, ValueTask<LedgerReservation?> preparing) =>
        InChain(key, vendor, price, await preparing ?? throw new InvalidOperationException("A ledger prepares every reservation or none."));

    private static SpendDecision InChain(VaultKey key, string vendor, Price price, LedgerReservation prepared) =>
        new(SpendVerdict.InChain, vendor, price, new MicroUsd(key.DailyCapMicros), prepared);

    /// <summary>An amount known only upstream (SPEC §5): the vendor's lookup reads it; no lookup for the vendor fails closed.</summary>
    private async ValueTask<SpendDecision> LookUpThenReserveAsync(VaultKey key, SpendRequest request, UpstreamLookup lookup, CancellationToken cancellationToken)
    {
        var price = _lookups.TryGetValue(request.Vendor, out var reader)
            ? await reader.PriceAsync(lookup, request, key.StripeAccounts, cancellationToken)
            : Price.Unpriceable($"KeyBrake cannot read {request.Vendor} objects to price this call");
        return await Reserve(key, request.Vendor, price, cancellationToken);
    }

    private static async ValueTask<SpendDecision> DecideAsync(VaultKey key, string vendor, Price price, ValueTask<LedgerReservation> reserving) =>
        Decide(key, vendor, price, await reserving);

    private static SpendDecision Decide(VaultKey key, string vendor, Price price, LedgerReservation reservation) =>
        new(reservation.Granted ? SpendVerdict.Reserved : SpendVerdict.CapExceeded, vendor, price, new MicroUsd(key.DailyCapMicros), reservation);

    private async ValueTask<MicroUsd> SettledAsync(ValueTask settling, LedgerReservation reservation, MicroUsd counted)
    {
        await KeptIfFailedAsync(settling, reservation);
        return counted;
    }

    /// <summary>The call has happened (or been refused) by now: a store that fails here must not fail it too.</summary>
    private async ValueTask KeptIfFailedAsync(ValueTask pending, LedgerReservation reservation)
    {
        try
        {
            await pending;
        }
        catch (Exception e) when (e is DbException or TimeoutException)
        {
            Log.ReservationKept(logger, reservation.KeyId, reservation.Estimate.Value, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4601, Level = LogLevel.Warning, Message = "Key {KeyId}: the ledger could not settle a reservation of {EstimateMicros} micro-USD; it stays reserved (counted as in doubt) for the day")]
        public static partial void ReservationKept(ILogger logger, string keyId, long estimateMicros, Exception exception);
    }
}

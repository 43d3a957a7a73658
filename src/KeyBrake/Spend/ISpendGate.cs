using KeyBrake.Keys;

namespace KeyBrake.Spend;

/// <summary>
/// SPEC §4 step 7 and §5: price a call and reserve it against the key's daily cap, then settle it from the response.
/// Returns decisions, never HTTP responses: the proxy step answers a refusal.
/// </summary>
internal interface ISpendGate
{
    ValueTask<SpendDecision> ReserveAsync(VaultKey key, SpendRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Settles a forwarded call; returns what it counts against the cap. <paramref name="upstreamStatus"/> is null when
    /// no answer came; <paramref name="replayed"/> is Stripe's <c>Idempotent-Replayed: true</c>;
    /// <paramref name="responseJson"/> is a 2xx JSON body KeyBrake read (a vendor may state the price there).
    /// </summary>
    ValueTask<MicroUsd> SettleAsync(SpendDecision decision, int? upstreamStatus, bool replayed, byte[]? responseJson, CancellationToken cancellationToken);

    /// <summary>Gives a reservation back: the call was not forwarded.</summary>
    ValueTask ReleaseAsync(SpendDecision decision, CancellationToken cancellationToken);

    /// <summary>Today's spent and reserved amounts for a key, for the admin API.</summary>
    ValueTask<(MicroUsd Spent, MicroUsd Reserved)> TodayAsync(VaultKey key, CancellationToken cancellationToken);
}

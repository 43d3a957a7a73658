using KeyBrake.Keys;
using KeyBrake.Spend;

namespace KeyBrake.Proxy;

/// <summary>SPEC §5: the spend step's refusals as the agent sees them — 402 <c>daily_cap_exceeded</c> with the figures, 422 <c>unpriceable_request</c>.</summary>
internal static class SpendRefusals
{
    /// <returns>Null when the call was reserved and may go on.</returns>
    public static KeyBrakeError? For(SpendDecision decision, VaultKey key) => decision.Verdict switch
    {
        SpendVerdict.Unpriceable => new KeyBrakeError(StatusCodes.Status422UnprocessableEntity, "unpriceable_request",
            $"This call can move money but cannot be priced: {decision.Refusal}."),
        SpendVerdict.CapExceeded => CapExceeded(decision, key),
        _ => null,
    };

    private static KeyBrakeError CapExceeded(SpendDecision decision, VaultKey key)
    {
        var (cap, spent, reserved, requested) = (decision.Cap, decision.SpentToday, decision.ReservedToday, decision.Estimate);
        return new KeyBrakeError(StatusCodes.Status402PaymentRequired, "daily_cap_exceeded",
            $"Vault key {key.Id} has ${decision.Remaining} of its ${cap} daily cap left; this call needs ${requested}.",
            writer =>
            {
                writer.WriteNumber("cap_usd", cap.ToUsd());
                writer.WriteNumber("spent_usd", spent.ToUsd());
                writer.WriteNumber("reserved_usd", reserved.ToUsd());
                writer.WriteNumber("requested_usd", requested.ToUsd());
            });
    }
}

namespace KeyBrake.Spend.Pricing;

/// <summary>
/// What a call is priced at before it is forwarded. <see cref="Lookup"/> names the upstream object whose amount or
/// currency must be read first (Stripe's confirm, capture, increment, invoice pay, refund without an amount).
/// <see cref="Refusal"/> is set when a call that can move money cannot be priced: 422 <c>unpriceable_request</c>.
/// </summary>
internal sealed record Price(MicroUsd Estimate, string? Currency = null, long? AmountMinor = null, UpstreamLookup? Lookup = null, string? Refusal = null)
{
    public static readonly Price Free = new(default(MicroUsd));

    public static Price Unpriceable(string why) => new(default(MicroUsd), Refusal: why);
}

/// <summary>
/// An upstream object to read (GET <see cref="Path"/>) to price the call: its <see cref="AmountField"/> unless the
/// request stated <see cref="RequestAmountMinor"/>, and its <c>currency</c> (<see cref="IPriceLookup"/>).
/// </summary>
internal sealed record UpstreamLookup(string Path, string AmountField, long? RequestAmountMinor);

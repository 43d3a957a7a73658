using KeyBrake.Spend.Pricing;

namespace KeyBrake.Vendors;

/// <summary>
/// Everything KeyBrake knows of one vendor, in its folder (Vendors/{Name}/): its defaults (the documented
/// <c>KeyBrake:Vendors:{name}:*</c> values), its credential shape, its pricing (SPEC §5: priced and free writes, upstream
/// lookups) and the facts its responses state (request id, price, secrets in success bodies). Data, not a class per
/// vendor: adding a vendor is a new folder with its profile and pricing, listed in <see cref="VendorProfiles"/>.
/// </summary>
internal sealed record VendorProfile
{
    /// <summary>The vendor as configuration, routes and errors spell it (<c>stripe</c>): <c>/{name}/…</c> on the proxy listener.</summary>
    public required string Name { get; init; }

    /// <summary>Default of <c>KeyBrake:Vendors:{name}:Upstream</c>.</summary>
    public required string Upstream { get; init; }

    /// <summary>Default of <c>KeyBrake:Vendors:{name}:SecretName</c>.</summary>
    public required string SecretName { get; init; }

    /// <summary>Default of <c>KeyBrake:Vendors:{name}:Auth</c>: the credential shape (<see cref="VendorCredential"/>).</summary>
    public required string Auth { get; init; }

    /// <summary>The vendor's tables, priced with the operator's <c>KeyBrake:Pricing</c>.</summary>
    public required Func<PricingOptions, IVendorPricing> Pricing { get; init; }

    /// <summary>The response header stating the vendor's request id; without it, the body's id stands in (<see cref="RequestIdFromBody"/>).</summary>
    public string? RequestIdHeader { get; init; }

    /// <summary>A request id stated only in a small JSON success body (Resend's email id).</summary>
    public Func<byte[], string?> RequestIdFromBody { get; init; } = ResponseBodyIds.Find;

    /// <summary>
    /// SPEC §4 step 11: a success body can carry the secret KeyBrake injects (Twilio's Account resource states its
    /// <c>auth_token</c>), so 2xx bodies are scrubbed too, not only 3xx/4xx/5xx ones. Off, they stream through.
    /// </summary>
    public bool ScrubsSuccessBodies { get; init; }

    /// <summary>SPEC §5: a success body states what the call cost (<see cref="IVendorPricing.StatedPrice"/>), so it is read even when the request id is in a header.</summary>
    public bool StatesPrice { get; init; }

    /// <summary>What the vendor needs beyond its tables (Stripe: the upstream object reads, an <see cref="IPriceLookup"/>).</summary>
    public Action<IServiceCollection>? AddServices { get; init; }
}

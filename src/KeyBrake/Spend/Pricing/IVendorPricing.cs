namespace KeyBrake.Spend.Pricing;

/// <summary>
/// One vendor's prices as the spend step asks for them (SPEC §5): its writes from KeyBrake's tables, and the price a
/// success response states. Each vendor's profile provides one (Vendors/{Name}/); Spend knows no vendor by name.
/// </summary>
internal interface IVendorPricing
{
    /// <summary>The vendor as configuration and errors spell it (<c>stripe</c>).</summary>
    string Vendor { get; }

    /// <summary>
    /// Prices a write (POST, PUT, PATCH or DELETE spelled exactly so): priced, free, or unpriceable (deny by default).
    /// <paramref name="read"/> parses the request's fields, at most once, and only if the rule needs them.
    /// </summary>
    Price Price(string method, string path, Func<(RequestFields? Fields, string? Error)> read);

    /// <summary>What a 2xx JSON body says the call cost, when the vendor states it (Twilio's <c>price</c>); null otherwise.</summary>
    MicroUsd? StatedPrice(byte[] json) => null;
}

using System.Collections.Frozen;

namespace KeyBrake.Spend.Pricing;

/// <summary>
/// Prices a proxied call for its vendor (SPEC §5). Reads (GET, HEAD, OPTIONS spelled exactly so) cost 0; a write is
/// priced from the vendor's table, free when a table lists it, and otherwise 422: deny by default, also for a method
/// spelled any other way and for a vendor KeyBrake has no table for. The body is parsed at most once, and only for a
/// write KeyBrake prices from its body. Each vendor's tables come from its profile (Vendors/{Name}/).
/// </summary>
internal sealed class Pricer(IEnumerable<IVendorPricing> vendors)
{
    private readonly FrozenDictionary<string, IVendorPricing> _vendors =
        vendors.ToFrozenDictionary(v => v.Vendor, StringComparer.Ordinal);

    public Price Price(string vendor, string method, string path, string? contentType, ReadOnlyMemory<byte> body, string? query, string? contentEncoding = null)
    {
        (RequestFields? Fields, string? Error)? parsed = null;
        return Price(vendor, method, path, () => parsed ??= (RequestFields.Parse(contentType, contentEncoding, body, query, out var error), error));
    }

    /// <summary>Prices with fields parsed elsewhere (once per call: see ProxyCall.ReadFields); <paramref name="read"/> runs only if needed.</summary>
    public Price Price(string vendor, string method, string path, Func<(RequestFields? Fields, string? Error)> read)
    {
        if (method is "GET" or "HEAD" or "OPTIONS")
        {
            return Pricing.Price.Free;
        }
        if (method is not ("POST" or "PUT" or "PATCH" or "DELETE"))
        {
            // Never a read: the forwarder may normalise any other spelling to a write (SPEC §4 step 2).
            return Pricing.Price.Unpriceable("the method is not one of GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE spelled exactly so");
        }
        return _vendors.TryGetValue(vendor, out var pricing)
            ? pricing.Price(method, path, read)
            : Pricing.Price.Unpriceable($"KeyBrake has no pricing for vendor '{vendor}', so it forwards only reads to it");
    }

    /// <summary>What a 2xx JSON body says the call cost (SPEC §5), when the vendor states it; null to keep the estimate.</summary>
    public MicroUsd? StatedPrice(string vendor, byte[] json) =>
        _vendors.TryGetValue(vendor, out var pricing) ? pricing.StatedPrice(json) : null;
}

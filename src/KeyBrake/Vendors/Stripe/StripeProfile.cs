using KeyBrake.Spend.Pricing;

namespace KeyBrake.Vendors.Stripe;

/// <summary>
/// Stripe: a Bearer secret key; money moved, priced in USD from the request or from the object it acts on, read
/// upstream (<see cref="StripeObjects"/>); the request id in <c>Request-Id</c>. Its success bodies hold no secret key
/// of the caller's, so they stream through unbuffered (the hot path).
/// </summary>
internal static class StripeProfile
{
    public const string VendorName = "stripe";

    public static readonly VendorProfile Instance = new()
    {
        Name = VendorName,
        Upstream = "https://api.stripe.com",
        SecretName = "stripe-api-key",
        Auth = VendorCredential.Bearer,
        Pricing = options => new StripePricing(new Currencies(options), options.Stripe),
        RequestIdHeader = "Request-Id",
        AddServices = services =>
        {
            services.AddSingleton<IPriceLookup, StripeObjects>();
            services.AddHttpClient(StripeObjects.ClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        },
    };
}

namespace KeyBrake.Vendors.Twilio;

/// <summary>
/// Twilio: Basic <c>AccountSid:auth token</c>; messages, calls and numbers priced from configured prices and settled
/// from the <c>price</c> a response states; the request id in <c>Twilio-Request-Id</c>. Its Account resource states
/// <c>auth_token</c> — the secret KeyBrake injects — so its success bodies are scrubbed as well (SPEC §4 step 11).
/// </summary>
internal static class TwilioProfile
{
    public const string VendorName = "twilio";

    public static readonly VendorProfile Instance = new()
    {
        Name = VendorName,
        Upstream = "https://api.twilio.com",
        SecretName = "twilio-auth-token",
        Auth = VendorCredential.Basic,
        Pricing = options => new TwilioPricing(options.Twilio),
        RequestIdHeader = "Twilio-Request-Id",
        ScrubsSuccessBodies = true,
        StatesPrice = true,
    };
}

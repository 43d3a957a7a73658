namespace KeyBrake.Vendors.Resend;

/// <summary>
/// Resend: a Bearer API key; one email per recipient; the request id is the email id its JSON answer states
/// (<see cref="ResponseBodyIds"/>). Its success bodies hold no API key, so they stream through.
/// </summary>
internal static class ResendProfile
{
    public const string VendorName = "resend";

    public static readonly VendorProfile Instance = new()
    {
        Name = VendorName,
        Upstream = "https://api.resend.com",
        SecretName = "resend-api-key",
        Auth = VendorCredential.Bearer,
        Pricing = options => new ResendPricing(options.Resend),
    };
}

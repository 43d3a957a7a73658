using System.Text;

namespace KeyBrake.Proxy;

/// <summary>How the vendor secret goes upstream: <c>Bearer &lt;secret&gt;</c>, or Twilio's Basic <c>AccountSid:&lt;secret&gt;</c>.</summary>
internal static class VendorCredential
{
    public const string Bearer = "Bearer";
    public const string Basic = "Basic";

    /// <summary>The Authorization header value, or null when the vendor's configuration cannot form one.</summary>
    public static string? HeaderValue(VendorOptions vendor, string secret) => vendor.Auth switch
    {
        Bearer => "Bearer " + secret,
        Basic when !string.IsNullOrEmpty(vendor.AccountSid) =>
            "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(vendor.AccountSid + ":" + secret)),
        _ => null,
    };
}

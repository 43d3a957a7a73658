using System.Text;

namespace KeyBrake.Vendors;

/// <summary>
/// A vendor's credential shape (its profile's <see cref="VendorProfile.Auth"/>): how the secret goes upstream —
/// <c>Bearer &lt;secret&gt;</c>, or Twilio's Basic <c>AccountSid:&lt;secret&gt;</c> — and which secrets a header value holds.
/// </summary>
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

    /// <summary>The secrets in an Authorization value: the value as sent, and for Basic also the password inside it.</summary>
    public static List<string> Secrets(string credential)
    {
        var space = credential.IndexOf(' ', StringComparison.Ordinal);
        var value = space < 0 ? credential : credential[(space + 1)..];
        var secrets = new List<string> { value };
        if (credential.StartsWith(Basic + " ", StringComparison.Ordinal))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(value));
                secrets.Add(pair[(pair.IndexOf(':', StringComparison.Ordinal) + 1)..]);
            }
            catch (FormatException)
            {
                // Not base64 after all: the value as sent is still scrubbed.
            }
        }
        return secrets;
    }
}

using System.Text;

namespace KeyBrake.Proxy;

/// <summary>
/// Reads the agent's vault key token: <c>Authorization: Bearer vk_…</c>, or Basic credentials whose username or
/// password is the token (Stripe's and Twilio's clients send Basic).
/// </summary>
internal static class ProxyToken
{
    private const int MaxHeaderLength = 1024;

    /// <returns>The presented token, or null when there is none.</returns>
    public static string? Read(string? authorization)
    {
        if (string.IsNullOrWhiteSpace(authorization) || authorization.Length > MaxHeaderLength)
        {
            return null;
        }
        var space = authorization.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return null;
        }
        var scheme = authorization.AsSpan(0, space);
        var value = authorization.AsSpan(space + 1).Trim();
        if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return value.IsEmpty ? null : value.ToString();
        }
        if (!scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value.ToString()));
        }
        catch (FormatException)
        {
            return null;
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        var user = colon < 0 ? decoded : decoded[..colon];
        var password = colon < 0 ? "" : decoded[(colon + 1)..];
        if (user.StartsWith(Keys.VaultToken.KeyPrefix, StringComparison.Ordinal))
        {
            return user;
        }
        if (password.StartsWith(Keys.VaultToken.KeyPrefix, StringComparison.Ordinal))
        {
            return password;
        }
        return password.Length > 0 ? password : user.Length > 0 ? user : null;
    }
}

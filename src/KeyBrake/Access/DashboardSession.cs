using KeyBrake.Admin;
using System.Globalization;
using System.Security.Cryptography;
using KeyBrake.Keys;
using Microsoft.AspNetCore.DataProtection;

namespace KeyBrake.Access;

/// <summary>
/// The dashboard's sign-in: a principal token is exchanged for an HttpOnly, SameSite=Strict cookie holding the token's
/// hash and an expiry, encrypted and authenticated by ASP.NET Core Data Protection (keys under <c>data/</c>). Every
/// request looks the principal up again, so disabling it or rotating its token ends the session at once. The token
/// itself is never stored, in the cookie or anywhere else.
/// </summary>
internal sealed class DashboardSession(IDataProtectionProvider protection, IPrincipalStore principals, TimeProvider time)
{
    public const string CookieName = "keybrake_session";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    private readonly IDataProtector _protector = protection.CreateProtector("KeyBrake.Dashboard.Session.v1");

    public async Task<Principal?> SignInAsync(HttpContext context, string token)
    {
        token = token.Trim();
        if (token.Length is 0 or > 200)
        {
            return null;
        }
        var hash = VaultToken.Hash(token);
        var principal = await principals.FindByTokenHashAsync(hash, context.RequestAborted);
        if (principal is not { DisabledAt: null })
        {
            return null;
        }
        var expires = time.GetUtcNow() + Lifetime;
        var value = _protector.Protect($"{hash}|{expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}");
        context.Response.Cookies.Append(CookieName, value, Options(context, expires));
        return principal;
    }

    public async Task<Principal?> AuthenticateAsync(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value) || value.Length > 4096)
        {
            return null;
        }
        string text;
        try
        {
            text = _protector.Unprotect(value);
        }
        catch (CryptographicException)
        {
            return null;
        }
        var parts = text.Split('|');
        if (parts.Length != 2 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || DateTimeOffset.FromUnixTimeSeconds(expires) <= time.GetUtcNow())
        {
            return null;
        }
        var principal = await principals.FindByTokenHashAsync(parts[0], context.RequestAborted);
        return principal is { DisabledAt: null } ? principal : null;
    }

    public static void SignOut(HttpContext context) => context.Response.Cookies.Delete(CookieName, Options(context, null));

    private static CookieOptions Options(HttpContext context, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = "/",
        Expires = expires,
        IsEssential = true,
    };
}

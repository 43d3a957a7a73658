using KeyBrake.Keys;
using Microsoft.Extensions.Primitives;

namespace KeyBrake.Proxy;

/// <summary>
/// SPEC §4 step 10 (checked with step 5): <c>Stripe-Account</c> makes the platform's secret act on a connected account,
/// so a key may name only the accounts in its <c>stripe_accounts</c> (none when the list is empty). Deny by default:
/// one header value, equal (ordinal) to a listed id; anything else — a second value, a list, another spelling — is
/// refused rather than interpreted. A key for any vendor is held to this; only Stripe keys can have a list.
/// </summary>
internal static class StripeAccountHeader
{
    public const string Name = "Stripe-Account";

    /// <returns>Null when the request may go on; else the refusal.</returns>
    public static KeyBrakeError? Check(IHeaderDictionary headers, VaultKey key)
    {
        if (!headers.TryGetValue(Name, out var values) || IsAllowed(values, key.StripeAccounts))
        {
            return null;
        }
        var allowed = key.StripeAccounts.Count == 0 ? "none" : string.Join(", ", key.StripeAccounts);
        return new KeyBrakeError(StatusCodes.Status403Forbidden, "stripe_account_not_allowed",
            $"Vault key {key.Id} may not act on the account named in Stripe-Account (its stripe_accounts: {allowed}).");
    }

    public static bool IsAllowed(StringValues values, IReadOnlyList<string> accounts)
    {
        if (values.Count != 1 || values[0] is not { Length: > 0 } account)
        {
            return false;
        }
        foreach (var allowed in accounts)
        {
            if (string.Equals(allowed, account, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}

using KeyBrake.Keys;
using Microsoft.Extensions.Primitives;

namespace KeyBrake.Vendors.Stripe;

/// <summary>
/// SPEC §4 step 10 (checked with step 5): <c>Stripe-Account</c> makes the platform's secret act on a connected account,
/// so a key may name only the accounts in its <c>stripe_accounts</c> (none when the list is empty). Deny by default:
/// one header value, equal (ordinal) to a listed id; anything else — a second value, a list, another spelling — is
/// refused rather than interpreted. A key for any vendor is held to this; only Stripe keys can have a list.
/// <c>Stripe-Context</c> supersedes Stripe-Account for acting on a related account and may name a path
/// (<c>acct_A/acct_B</c>): it is held to the same check, so a path is never "one listed id". Both are matched in any
/// spelling <see cref="HeaderSpelling"/> treats as the same header (<c>Stripe_Account</c>).
/// </summary>
internal static class StripeAccountHeader
{
    public const string Name = "Stripe-Account";
    public const string ContextName = "Stripe-Context";

    /// <returns>Null when the request may go on; else the refusal.</returns>
    public static KeyBrakeError? Check(IHeaderDictionary headers, VaultKey key)
    {
        foreach (var (name, values) in headers)
        {
            if ((HeaderSpelling.Is(name, Name) || HeaderSpelling.Is(name, ContextName)) && !IsAllowed(values, key.StripeAccounts))
            {
                var allowed = key.StripeAccounts.Count == 0 ? "none" : string.Join(", ", key.StripeAccounts);
                return new KeyBrakeError(StatusCodes.Status403Forbidden, "stripe_account_not_allowed",
                    $"Vault key {key.Id} may not act on the account named in {name} (its stripe_accounts: {allowed}).");
            }
        }
        return null;
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

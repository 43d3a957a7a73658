using System.Text.Json;
using KeyBrake.Secrets;
using KeyBrake.Spend;
using KeyBrake.Spend.Pricing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace KeyBrake.Vendors.Stripe;

/// <summary>
/// Reads the Stripe object a call acts on (GET with the vendor secret) when its amount or currency is known only
/// upstream: confirm, capture, increment, invoice pay, refunds (SPEC §5). A read that fails leaves the call unpriced.
/// </summary>
internal sealed partial class StripeObjects(
    IHttpClientFactory clients, ISecretStore secrets, IOptions<KeyBrakeOptions> options, ILogger<StripeObjects> logger) : IPriceLookup
{
    public const string ClientName = "keybrake-stripe-lookup";
    private readonly Currencies _currencies = new(options.Value.Pricing);

    public string Vendor => StripeProfile.VendorName;

    /// <summary>
    /// The object is read on the account the call acts on (its <c>Stripe-Account</c>): an object on a connected account
    /// is read on that account, or Stripe answers 404 and the call could never be priced.
    /// </summary>
    public ValueTask<Price> PriceAsync(UpstreamLookup lookup, SpendRequest request, IReadOnlyList<string> allowedAccounts, CancellationToken cancellationToken) =>
        LookupAccount(request.StripeAccount, allowedAccounts, out var account) is { } refusal
            ? ValueTask.FromResult(refusal)
            : new ValueTask<Price>(PriceAsync(request.Vendor, lookup, account, cancellationToken));

    /// <summary>
    /// The <c>Stripe-Account</c> the lookup reads on: the one the call acts on. The proxy has refused any value not in
    /// the key's <c>stripe_accounts</c> before pricing (SPEC §4 step 10); checked again so a lookup never reads, with
    /// the platform's secret, an account the key may not name (fail closed).
    /// </summary>
    private static Price? LookupAccount(StringValues values, IReadOnlyList<string> allowedAccounts, out string? account)
    {
        account = null;
        if (values.Count == 0)
        {
            return null;
        }
        if (!StripeAccountHeader.IsAllowed(values, allowedAccounts))
        {
            return Price.Unpriceable("the Stripe-Account header is not one of the key's stripe_accounts");
        }
        account = values[0];
        return null;
    }

    private async Task<Price> PriceAsync(string vendor, UpstreamLookup lookup, string? account, CancellationToken cancellationToken)
    {
        var settings = options.Value.Vendors[vendor];
        try
        {
            var credential = VendorCredential.HeaderValue(settings, await secrets.GetAsync(settings.SecretName!, cancellationToken));
            using var request = new HttpRequestMessage(HttpMethod.Get, settings.Upstream!.TrimEnd('/') + lookup.Path);
            request.Headers.TryAddWithoutValidation("Authorization", credential);
            if (account is not null)
            {
                request.Headers.TryAddWithoutValidation(StripeAccountHeader.Name, account);
            }
            using var response = await clients.CreateClient(ClientName).SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return Price.Unpriceable($"{vendor} answered {(int)response.StatusCode} to GET {lookup.Path}, so the amount this call moves is unknown");
            }
            using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            var root = json.RootElement;
            var currency = root.TryGetProperty("currency", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            long amount;
            if (lookup.RequestAmountMinor is { } stated)
            {
                amount = stated;
            }
            else if (!root.TryGetProperty(lookup.AmountField, out var a) || !a.TryGetInt64(out amount) || amount < 0)
            {
                return Price.Unpriceable($"GET {lookup.Path} has no usable '{lookup.AmountField}'");
            }
            return _currencies.TryToMicroUsd(amount, currency, out var usd, out var error)
                ? new Price(usd, currency!.ToLowerInvariant(), amount, lookup)
                : Price.Unpriceable(error!);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or SecretUnavailableException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Log.LookupFailed(logger, lookup.Path, e.GetType().Name);
            return Price.Unpriceable($"GET {lookup.Path} failed, so the amount this call moves is unknown");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Pricing lookup GET {Path} failed ({Error})")]
        public static partial void LookupFailed(ILogger logger, string path, string error);
    }
}

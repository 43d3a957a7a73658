using System.Text.Json;
using KeyBrake.Proxy;
using KeyBrake.Secrets;
using KeyBrake.Spend.Pricing;
using Microsoft.Extensions.Options;

namespace KeyBrake.Spend;

/// <summary>
/// Reads the Stripe object a call acts on (GET with the vendor secret) when its amount or currency is known only
/// upstream: confirm, capture, increment, invoice pay, refunds (SPEC §5). A read that fails leaves the call unpriced.
/// </summary>
internal sealed partial class StripeObjects(
    IHttpClientFactory clients, ISecretStore secrets, IOptions<KeyBrakeOptions> options, ILogger<StripeObjects> logger)
{
    public const string ClientName = "keybrake-stripe-lookup";
    private readonly Currencies _currencies = new(options.Value.Pricing);

    /// <param name="account">
    /// The call's <c>Stripe-Account</c>, already held to the key's <c>stripe_accounts</c> (SPEC §4 step 10): an object
    /// on a connected account is read on that account, or Stripe answers 404 and the call could never be priced.
    /// </param>
    public async Task<Price> PriceAsync(string vendor, StripeLookup lookup, string? account, CancellationToken cancellationToken)
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

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Spend;

/// <summary>
/// SPEC §5 with §4 step 10: a confirm on a connected account is priced from the object on that account, so the
/// lookup GET carries the call's (allowed) <c>Stripe-Account</c>; without it Stripe answers 404 and the call was 422.
/// </summary>
public sealed class ConnectedAccountLookupTests : HostedTest
{
    private const string Account = "acct_1ABC";

    [Fact]
    public async Task Confirm_OnAConnectedAccount_LooksUpTheObjectOnThatAccount()
    {
        // Like Stripe: pi_x exists only on the connected account; a platform read is 404.
        Vendor.Respond = request => request.Method == "GET" && !(request.Headers.TryGetValue("Stripe-Account", out var account) && account == Account)
            ? (404, """{"error":{"type":"invalid_request_error","code":"resource_missing"}}""", null)
            : (200, """{"id":"pi_x","object":"payment_intent","amount":700,"currency":"usd","status":"succeeded"}""", null);
        using var created = await Host.Admin.PostAsJsonAsync("/v1/keys", new
        {
            label = "connected-confirm",
            vendor = "stripe",
            allowed_endpoints = new[] { "POST /v1/payment_intents/*" },
            daily_usd_cap = 100,
            stripe_accounts = new[] { Account },
            expires_in = "1h",
        });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var key = await created.Content.ReadFromJsonAsync<JsonElement>();
        var (id, token) = (key.GetProperty("id").GetString()!, key.GetProperty("token").GetString()!);
        using var request = KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents/pi_x/confirm", token,
            new StringContent("", Encoding.UTF8, "application/x-www-form-urlencoded"));
        request.Headers.Add("Stripe-Account", Account);

        using var response = await Host.Proxy.SendAsync(request);

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(2, Vendor.Received.Count);
        var (lookup, confirm) = (Vendor.Received[0], Vendor.Received[1]);
        Assert.Equal(("GET", "/v1/payment_intents/pi_x", Account), (lookup.Method, lookup.Path, lookup.Headers.GetValueOrDefault("Stripe-Account")));
        Assert.Equal(("POST", "/v1/payment_intents/pi_x/confirm", Account), (confirm.Method, confirm.Path, confirm.Headers.GetValueOrDefault("Stripe-Account")));
        Assert.Equal((7m, 0m), await PricedCall.SpendAsync(Host, id));
    }
}

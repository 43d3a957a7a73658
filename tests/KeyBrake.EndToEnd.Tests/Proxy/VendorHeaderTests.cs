using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Proxy;

/// <summary>
/// SPEC §4 step 10: what the vendor learns from the agent's headers. Nothing about the agent's network (Forwarded,
/// X-Forwarded-*, X-Real-IP, Via are dropped and KeyBrake adds none), and no connected account beyond the key's
/// <c>stripe_accounts</c> (Stripe-Account would let a key act for any account the platform is connected to).
/// </summary>
public sealed class VendorHeaderTests : HostedTest
{
    private static readonly string[] ClientHeaders =
        ["Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix", "X-Forwarded-Anything", "X-Real-IP", "Via"];

    [Fact]
    public async Task ClientNetworkHeaders_NeverReachTheVendor_AndKeyBrakeAddsNone()
    {
        var (_, token) = await Host.CreateKeyAsync("headers-run", "stripe", ["GET /v1/customers/*"]);
        using var request = KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token);
        request.Headers.TryAddWithoutValidation("Forwarded", "for=10.0.0.7;proto=https;host=internal.example");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "10.0.0.7");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "internal.example");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Prefix", "/admin");
        request.Headers.TryAddWithoutValidation("x-forwarded-anything", "1");
        request.Headers.TryAddWithoutValidation("X-Real-IP", "10.0.0.7");
        request.Headers.TryAddWithoutValidation("Via", "1.1 agent-sidecar");
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "run-1");

        using var response = await Host.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(Vendor.Received);
        Assert.DoesNotContain(received.Headers.Keys, name => ClientHeaders.Contains(name, StringComparer.OrdinalIgnoreCase)
            || name.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("run-1", received.Headers["Idempotency-Key"]); // the rest still goes through
    }

    [Theory]
    [InlineData("acct_1ABCDEF")]
    [InlineData("")]
    public async Task StripeAccount_KeyWithoutStripeAccounts_Is403_AndNeverReachesVendor(string account)
    {
        var (id, token) = await Host.CreateKeyAsync("stripe-account-none", "stripe", ["POST /v1/customers"]);

        var (status, body) = await RawHttp.SendAsync(Host.ProxyPort, "POST", "/stripe/v1/customers",
            [$"Authorization: Bearer {token}", $"Stripe-Account: {account}", "Content-Type: application/x-www-form-urlencoded"], "email=a%40example.com");

        Assert.Equal(403, status);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("stripe_account_not_allowed", json.RootElement.GetProperty("code").GetString());
        Assert.Empty(Vendor.Received);
        await Host.AuditFlushedAsync();
        var denied = (await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={id}&type=proxy.denied")).GetProperty("entries").EnumerateArray().Single();
        Assert.Equal("deny:stripe_account_not_allowed", denied.GetProperty("decision").GetString());
    }

    [Fact]
    public async Task StripeAccount_NotTheAllowlistFirst_AnUnlistedEndpointIsStillEndpointNotAllowed()
    {
        var (_, token) = await Host.CreateKeyAsync("stripe-account-order", "stripe", ["POST /v1/customers"]);

        var (status, body) = await RawHttp.SendAsync(Host.ProxyPort, "POST", "/stripe/v1/charges",
            [$"Authorization: Bearer {token}", "Stripe-Account: acct_1ABCDEF"], "");

        Assert.Equal(403, status);
        Assert.Contains("endpoint_not_allowed", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StripeAccount_ListedAccount_PassesUnchanged_OthersAre403()
    {
        using var created = await Host.Admin.PostAsJsonAsync("/v1/keys", new
        {
            label = "accounts-run", vendor = "stripe", allowed_endpoints = new[] { "GET /v1/customers/*" }, daily_usd_cap = 10,
            stripe_accounts = new[] { "acct_allowed" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;

        var (allowed, _) = await RawHttp.SendAsync(Host.ProxyPort, "GET", "/stripe/v1/customers/cus_1", [$"Authorization: Bearer {token}", "Stripe-Account: acct_allowed"]);
        var (other, body) = await RawHttp.SendAsync(Host.ProxyPort, "GET", "/stripe/v1/customers/cus_1", [$"Authorization: Bearer {token}", "Stripe-Account: acct_other"]);
        var (two, _) = await RawHttp.SendAsync(Host.ProxyPort, "GET", "/stripe/v1/customers/cus_1",
            [$"Authorization: Bearer {token}", "Stripe-Account: acct_allowed", "Stripe-Account: acct_other"]);

        Assert.Equal((200, 403, 403), (allowed, other, two));
        Assert.Contains("stripe_account_not_allowed", body, StringComparison.Ordinal);
        var received = Assert.Single(Vendor.Received);
        Assert.Equal("acct_allowed", received.Headers["Stripe-Account"]);
    }
}

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

    /// <summary>CGI/Rack-style servers read <c>_</c> as <c>-</c> in a header name: each spelling is stripped like the header it spells.</summary>
    [Fact]
    public async Task UnderscoreSpellings_OfStrippedHeaders_NeverReachTheVendor()
    {
        var (_, token) = await Host.CreateKeyAsync("headers-underscore", "stripe", ["GET /v1/customers/*"]);

        var (status, _) = await RawHttp.SendAsync(Host.ProxyPort, "GET", "/stripe/v1/customers/cus_1",
        [
            $"Authorization: Bearer {token}", "Proxy_Authorization: Basic c2VjcmV0", "X_Forwarded_For: 10.0.0.7", "x_forwarded-host: internal.example",
            "X-Real_IP: 10.0.0.7", "X_Real_Ip: 10.0.0.8", "X_KeyBrake_Reason: r", "Idempotency_Key: run-1",
        ]);

        Assert.Equal(200, status);
        var received = Assert.Single(Vendor.Received);
        var spelled = received.Headers.Keys.Select(name => name.Replace('_', '-')).ToList();
        Assert.DoesNotContain(spelled, name => ClientHeaders.Contains(name, StringComparer.OrdinalIgnoreCase)
            || name.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-KeyBrake-", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("run-1", received.Headers["Idempotency_Key"]); // an underscore name nobody governs still goes through
    }

    /// <summary>
    /// Stripe-Context supersedes Stripe-Account for acting on a related account (stripe-node sends it), and a context
    /// may be a path of accounts: anything but exactly one listed id is refused, under any spelling of either header.
    /// </summary>
    [Theory]
    [InlineData("Stripe-Context: acct_VICTIM")]
    [InlineData("stripe-context: acct_VICTIM")]
    [InlineData("Stripe-Context: acct_ALLOWED/acct_VICTIM")]
    [InlineData("Stripe-Context: acct_VICTIM/acct_ALLOWED")]
    [InlineData("Stripe-Context: ")]
    [InlineData("Stripe_Context: acct_VICTIM")]
    [InlineData("Stripe_Account: acct_VICTIM")]
    [InlineData("stripe_account: acct_ALLOWED/acct_VICTIM")]
    public async Task StripeContextOrAnySpelling_NotExactlyAListedAccount_Is403_AndNeverReachesVendor(string header)
    {
        var token = await AllowedAccountKeyAsync();

        var (status, body) = await RawHttp.SendAsync(Host.ProxyPort, "GET", "/stripe/v1/customers/cus_1", [$"Authorization: Bearer {token}", header]);
        var (both, _) = await RawHttp.SendAsync(Host.ProxyPort, "GET", "/stripe/v1/customers/cus_1",
            [$"Authorization: Bearer {token}", "Stripe-Account: acct_ALLOWED", header]);

        Assert.Equal((403, 403), (status, both));
        using var json = JsonDocument.Parse(body);
        Assert.Equal("stripe_account_not_allowed", json.RootElement.GetProperty("code").GetString());
        Assert.Empty(Vendor.Received);
    }

    [Theory]
    [InlineData("Stripe-Context")]
    [InlineData("Stripe_Context")]
    [InlineData("Stripe_Account")]
    public async Task StripeContextOrAnySpelling_ListedAccount_PassesUnchanged(string name)
    {
        var token = await AllowedAccountKeyAsync();

        var (status, _) = await RawHttp.SendAsync(Host.ProxyPort, "GET", "/stripe/v1/customers/cus_1", [$"Authorization: Bearer {token}", $"{name}: acct_ALLOWED"]);

        Assert.Equal(200, status);
        Assert.Equal("acct_ALLOWED", Assert.Single(Vendor.Received).Headers[name]);
    }

    private async Task<string> AllowedAccountKeyAsync()
    {
        using var created = await Host.Admin.PostAsJsonAsync("/v1/keys", new
        {
            label = "context-run", vendor = "stripe", allowed_endpoints = new[] { "GET /v1/customers/*" }, daily_usd_cap = 10,
            stripe_accounts = new[] { "acct_ALLOWED" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }
}

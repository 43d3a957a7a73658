using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.EndToEnd.Tests.Proxy;

public sealed class ProxyPipelineTests() : HostedTest(new FakeTimeProvider(new DateTimeOffset(2026, 6, 3, 12, 0, 0, TimeSpan.Zero)))
{
    private static readonly string[] StripeAllowed = ["POST /v1/payment_intents", "GET /v1/customers/*"];

    [Fact]
    public async Task AllowedCall_ReachesVendorWithSecret_WithoutTokenOrKeyBrakeHeaders()
    {
        var (_, token) = await Host.CreateKeyAsync("run-allowed", "stripe", StripeAllowed, cap: 50);
        using var request = KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents?expand[0]=customer", token,
            new StringContent("amount=500&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded"));
        request.Headers.Add("X-KeyBrake-Reason", "charge the nightly batch");
        request.Headers.Add("X-KeyBrake-Anything", "internal");
        request.Headers.Add("Proxy-Authorization", "Basic " + token);

        using var response = await Host.Proxy.SendAsync(request);

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var received = Assert.Single(Vendor.Received);
        Assert.Equal("POST", received.Method);
        Assert.Equal("/v1/payment_intents", received.Path);
        Assert.Equal("?expand[0]=customer", Uri.UnescapeDataString(received.Query));
        Assert.Equal("amount=500&currency=usd", received.Body);
        Assert.Equal("Bearer " + KeyBrakeHost.StripeSecret, received.Headers["Authorization"]);
        Assert.DoesNotContain(received.Headers, h => h.Key.StartsWith("X-KeyBrake-", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(received.Headers, h => h.Value.Contains(token, StringComparison.Ordinal) || h.Value.Contains("vk_", StringComparison.Ordinal));
        Assert.DoesNotContain(received.Headers, h => h.Key.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase));
        Assert.StartsWith("req_", response.Headers.GetValues("X-KeyBrake-Request-Id").Single());
        Assert.Equal("45", response.Headers.GetValues("X-KeyBrake-Remaining-Usd").Single()); // $50 cap, $5 reserved by this call
    }

    [Fact]
    public async Task UpstreamKeyBrakeHeaders_AreReplacedByKeyBrakes()
    {
        var (_, token) = await Host.CreateKeyAsync("run-spoof", "stripe", StripeAllowed, cap: 7.25m);
        Vendor.Respond = _ => (200, "{}", new() { ["X-KeyBrake-Remaining-Usd"] = "999999", ["X-KeyBrake-Request-Id"] = "req_forged", ["X-KeyBrake-Other"] = "x" });

        using var response = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("7.25", response.Headers.GetValues("X-KeyBrake-Remaining-Usd").Single());
        Assert.NotEqual("req_forged", response.Headers.GetValues("X-KeyBrake-Request-Id").Single());
        Assert.False(response.Headers.Contains("X-KeyBrake-Other"));
    }

    public static TheoryData<string, string, string[], int, string> BypassAttempts => new()
    {
        { "GET", "/stripe/v1/customers/../payment_intents", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1/customers/./cus_1", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1/customers/%2e%2e/charges", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1/customers/%2E%2E/%2E%2E/v1/keys", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1/customers/cus_1%2F..%2Fcharges", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1/customers/cus_1%5C..%5Ccharges", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1/customers/cus_1\\..\\charges", [], 400, "non_canonical_path" },
        { "GET", "/stripe//v1/customers/cus_1", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1//customers/cus_1", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1/customers/cus_1/", [], 400, "non_canonical_path" },
        { "GET", "/stripe", [], 400, "non_canonical_path" },
        { "GET", "/stripe/", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1/customers/cus%201", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1/customers/..;/charges", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1/customers/cus_1;jsessionid=x", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1/customers/;", [], 400, "non_canonical_path" },
        { "GET", "/stripe/v1/customers/" + new string('c', 2035), [], 414, "uri_too_long" },
        { "GET", "/stripe/v1/customers/cus_1?" + new string('q', 2030), [], 414, "uri_too_long" },
        { "Get", "/stripe/v1/customers/cus_1", [], 400, "non_canonical_method" },
        { "TRACE", "/stripe/v1/customers/cus_1", [], 400, "non_canonical_method" },
        { "GET", "/stripe/V1/customers/cus_1", [], 403, "endpoint_not_allowed" },
        { "GET", "/stripe/v1/Customers/cus_1", [], 403, "endpoint_not_allowed" },
        { "POST", "/stripe/v1/customers/cus_1", [], 403, "endpoint_not_allowed" },
        { "DELETE", "/stripe/v1/customers/cus_1", [], 403, "endpoint_not_allowed" },
        { "GET", "/stripe/v1/customers", [], 403, "endpoint_not_allowed" },
        { "GET", "/stripe/v1/payment_intents", [], 403, "endpoint_not_allowed" },
        { "POST", "/stripe/v1/payment_intents/pi_1/confirm", [], 403, "endpoint_not_allowed" },
        { "GET", "/stripe/v1/charges", [], 403, "endpoint_not_allowed" },
        { "GET", "/stripe/v1/payment_intents", ["X-HTTP-Method-Override: POST"], 400, "method_override_not_allowed" },
        { "GET", "/stripe/v1/payment_intents", ["X-HTTP-Method: POST"], 400, "method_override_not_allowed" },
        { "GET", "/stripe/v1/payment_intents", ["X-Method-Override: POST"], 400, "method_override_not_allowed" },
        { "GET", "/stripe/v1/payment_intents", ["X_HTTP_Method_Override: POST"], 400, "method_override_not_allowed" },
        { "GET", "/stripe/v1/payment_intents", ["x-http_method: POST"], 400, "method_override_not_allowed" },
        { "GET", "/stripe/v1/payment_intents", ["X_Method_Override: POST"], 400, "method_override_not_allowed" },
        { "POST", "/twilio/2010-04-01/Accounts/AC1/Messages.json", [], 403, "vendor_not_allowed" },
        { "GET", "/resend/emails", [], 403, "vendor_not_allowed" },
        { "GET", "/Stripe/v1/customers/cus_1", [], 404, "unknown_vendor" },
        { "GET", "/paypal/v1/customers/cus_1", [], 404, "unknown_vendor" },
        { "GET", "/v1/keys", [], 404, "unknown_vendor" },
        { "GET", "/%73tripe/v1/customers/cus_1", [], 404, "unknown_vendor" },
    };

    [Theory]
    [MemberData(nameof(BypassAttempts))]
    public async Task BypassAttempt_IsRefused_AndNeverReachesVendor(string method, string target, string[] headers, int status, string code)
    {
        var (_, token) = await Host.CreateKeyAsync("run-bypass", "stripe", StripeAllowed);

        var (actualStatus, body) = await RawHttp.SendAsync(Host.ProxyPort, method, target, [$"Authorization: Bearer {token}", .. headers]);

        Assert.Equal(status, actualStatus);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(code, json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.False(json.RootElement.GetProperty("error").GetProperty("retryable").GetBoolean());
        Assert.Empty(Vendor.Received);
    }

    [Fact]
    public async Task Target_OfExactly2048CharactersAfterThePrefix_QueryIncluded_IsForwarded()
    {
        var (_, token) = await Host.CreateKeyAsync("run-2048", "stripe", StripeAllowed);
        const string path = "/v1/customers/cus_1?q=";
        var target = path + new string('q', 2048 - path.Length);

        var (status, _) = await RawHttp.SendAsync(Host.ProxyPort, "GET", "/stripe" + target, [$"Authorization: Bearer {token}"]);
        var (longer, _) = await RawHttp.SendAsync(Host.ProxyPort, "GET", "/stripe" + target + "q", [$"Authorization: Bearer {token}"]);

        Assert.Equal((200, 414), (status, longer));
        var received = Assert.Single(Vendor.Received);
        Assert.Equal(target, received.Path + received.Query);
    }

    [Fact]
    public async Task EndpointNotAllowed_NamesAllowedAndAttempted()
    {
        var (_, token) = await Host.CreateKeyAsync("run-detail", "stripe", StripeAllowed);

        using var response = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/refunds?amount=5", token));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = await ErrorJson.ReadAsync(response);
        Assert.Equal("endpoint_not_allowed", error.GetProperty("code").GetString());
        Assert.Equal(StripeAllowed, error.GetProperty("allowed_endpoints").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal("POST /v1/refunds", error.GetProperty("attempted").GetString());
        Assert.Empty(Vendor.Received);
    }

    [Fact]
    public async Task Tokens_MissingUnknownRevokedExpired_Get401WithTheirCodes()
    {
        var (revokedId, revoked) = await Host.CreateKeyAsync("run-revoked", "stripe", StripeAllowed);
        (await Host.Admin.DeleteAsync($"/v1/keys/{revokedId}?reason=test")).EnsureSuccessStatusCode();
        var (_, expiring) = await Host.CreateKeyAsync("run-expiring", "stripe", StripeAllowed, ttl: "90s");
        const string path = "/stripe/v1/customers/cus_1";

        async Task<string> CodeOf(string? token, string? scheme = "Bearer")
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue(scheme!, token);
            }
            using var response = await Host.Proxy.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            return (await ErrorJson.ReadAsync(response)).GetProperty("code").GetString()!;
        }

        Assert.Equal("missing_key", await CodeOf(null));
        Assert.Equal("missing_key", await CodeOf("", "Bearer"));
        Assert.Equal("invalid_key", await CodeOf("vk_" + new string('A', 43)));
        Assert.Equal("invalid_key", await CodeOf("sk_live_real_looking_key"));
        Assert.Equal("key_revoked", await CodeOf(revoked));
        Time!.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal("key_expired", await CodeOf(expiring));
        Assert.Empty(Vendor.Received);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BasicCredentials_TokenAsUsernameOrPassword_IsAccepted(bool asUsername)
    {
        var (_, token) = await Host.CreateKeyAsync("run-basic", "stripe", StripeAllowed);
        var pair = asUsername ? token + ":" : "AC123:" + token;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/stripe/v1/customers/cus_1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));

        using var response = await Host.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer " + KeyBrakeHost.StripeSecret, Assert.Single(Vendor.Received).Headers["Authorization"]);
    }

    [Fact]
    public async Task Twilio_GetsBasicAccountSidAndSecret()
    {
        var (_, token) = await Host.CreateKeyAsync("run-twilio", "twilio", ["POST /2010-04-01/Accounts/*/Messages.json"]);
        using var request = KeyBrakeHost.ProxyRequest(HttpMethod.Post, $"/twilio/2010-04-01/Accounts/{KeyBrakeHost.TwilioAccountSid}/Messages.json", token,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["To"] = "+15555550100", ["Body"] = "hi" }));

        using var response = await Host.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{KeyBrakeHost.TwilioAccountSid}:{KeyBrakeHost.TwilioSecret}"));
        Assert.Equal(expected, Assert.Single(Vendor.Received).Headers["Authorization"]);
    }

    [Fact]
    public async Task OversizedBody_WithContentLength_Is413_AndNeverReachesVendor()
    {
        var (_, token) = await Host.CreateKeyAsync("run-big", "stripe", StripeAllowed);
        using var response = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
            new ByteArrayContent(new byte[1024 * 1024 + 1])));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("body_too_large", (await ErrorJson.ReadAsync(response)).GetProperty("code").GetString());
        Assert.Empty(Vendor.Received);
    }

    [Fact]
    public async Task OversizedBody_Chunked_Is413_AndNeverReachesVendor()
    {
        var (_, token) = await Host.CreateKeyAsync("run-big-chunked", "stripe", StripeAllowed);
        var content = new StreamContent(new MemoryStream(new byte[2 * 1024 * 1024]));
        using var request = KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token, content);
        request.Headers.TransferEncodingChunked = true;

        using var response = await Host.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("body_too_large", (await ErrorJson.ReadAsync(response)).GetProperty("code").GetString());
        Assert.Empty(Vendor.Received);
    }

    [Fact]
    public async Task Listeners_KeepAdminAndProxyRoutesApart()
    {
        var (id, token) = await Host.CreateKeyAsync("run-listeners", "stripe", StripeAllowed);

        using var adminOnProxy = await Host.Proxy.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/keys/{id}")
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", KeyBrakeHost.AdminToken) },
        });
        using var healthOnProxy = await Host.Proxy.GetAsync("/healthz");
        using var proxyOnAdmin = await Host.Admin.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
        var (dotted, _) = await RawHttp.SendAsync(Host.AdminPort, "GET", "/x/../stripe/v1/customers/cus_1", [$"Authorization: Bearer {token}"]);
        var (smuggled, _) = await RawHttp.SendAsync(Host.ProxyPort, "GET", "/stripe/../v1/keys", [$"Authorization: Bearer {KeyBrakeHost.AdminToken}"]);

        Assert.Equal(HttpStatusCode.NotFound, adminOnProxy.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, healthOnProxy.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, proxyOnAdmin.StatusCode);
        Assert.Equal(404, dotted);
        Assert.Equal(400, smuggled);
        Assert.Empty(Vendor.Received);
    }

    [Fact]
    public async Task VendorPort_ServesUnprefixedPathsForThatVendor()
    {
        var (_, token) = await Host.CreateKeyAsync("run-port", "stripe", StripeAllowed);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Host.StripePort}") };

        using var allowed = await client.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/v1/customers/cus_9", token));
        using var denied = await client.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/v1/charges", token));
        var (dotted, _) = await RawHttp.SendAsync(Host.StripePort, "GET", "/v1/customers/../charges", [$"Authorization: Bearer {token}"]);

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal(400, dotted);
        var received = Assert.Single(Vendor.Received);
        Assert.Equal("/v1/customers/cus_9", received.Path);
    }

    [Fact]
    public async Task UnreachableUpstream_Is502UpstreamUnreachable()
    {
        await using var host = await KeyBrakeHost.StartAsync(Vendor, new() { ["KeyBrake:Vendors:resend:Upstream"] = $"http://127.0.0.1:{FreePort.Next()}" });
        var (_, token) = await host.CreateKeyAsync("run-down", "resend", ["POST /emails"]);

        using var response = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/resend/emails", token, new StringContent("""{"from":"a@x.com","to":"b@x.com","subject":"s"}""", Encoding.UTF8, "application/json")));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = await ErrorJson.ReadAsync(response);
        Assert.Equal("upstream_unreachable", error.GetProperty("code").GetString());
        Assert.DoesNotContain("127.0.0.1", error.GetProperty("message").GetString(), StringComparison.Ordinal); // no network detail to the agent
        Assert.Contains(host.Logs.Lines, l => l.Contains("[4105]", StringComparison.Ordinal) && l.Contains("refused", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task SilentUpstream_Is504UpstreamTimeout()
    {
        await using var host = await KeyBrakeHost.StartAsync(Vendor, new() { ["KeyBrake:Proxy:UpstreamTimeout"] = "1s" });
        var (_, token) = await host.CreateKeyAsync("run-slow", "resend", ["POST /emails"]);
        Vendor.Delay = TimeSpan.FromSeconds(10);

        using var response = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/resend/emails", token, new StringContent("""{"from":"a@x.com","to":"b@x.com","subject":"s"}""", Encoding.UTF8, "application/json")));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var error = await ErrorJson.ReadAsync(response);
        Assert.Equal("upstream_timeout", error.GetProperty("code").GetString());
        Assert.False(error.GetProperty("retryable").GetBoolean()); // it may have executed: retrying could repeat it
        Assert.Single(Vendor.Received);
    }

    [Fact]
    public async Task MissingSecret_Is503SecretUnavailable_AndNeverReachesVendor()
    {
        await using var host = await KeyBrakeHost.StartAsync(Vendor, new() { ["KeyBrake:Secrets:Local:resend-api-key"] = null });
        var (_, token) = await host.CreateKeyAsync("run-nosecret", "resend", ["POST /emails"]);

        using var response = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/resend/emails", token, new StringContent("""{"from":"a@x.com","to":"b@x.com","subject":"s"}""", Encoding.UTF8, "application/json")));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var error = await ErrorJson.ReadAsync(response);
        Assert.Equal("secret_unavailable", error.GetProperty("code").GetString());
        Assert.DoesNotContain("re_", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(Vendor.Received);
    }
}

using System.Net;
using System.Text;
using KeyBrake.EndToEnd.Tests.Support;
using Stripe;

namespace KeyBrake.EndToEnd.Tests.Clients;

/// <summary>
/// The vendors' own client libraries, changed only in base URL and key, talking to the real host. The fake vendor
/// records what arrived: the real secret, never the vault key, and nothing at all for denied calls.
/// </summary>
public sealed class VendorClientTests : HostedTest
{
    [Fact]
    public async Task StripeNet_AllowedCall_ReachesVendorWithTheRealSecret()
    {
        var (_, token) = await Host.CreateKeyAsync("stripe-net-run", "stripe", ["POST /v1/payment_intents"]);
        var client = StripeNet(token);

        var intent = await new PaymentIntentService(client).CreateAsync(new PaymentIntentCreateOptions { Amount = 500, Currency = "usd" });

        Assert.Equal("pi_123", intent.Id);
        var received = Assert.Single(Vendor.Received);
        Assert.Equal("/v1/payment_intents", received.Path);
        Assert.Contains("amount=500", received.Body, StringComparison.Ordinal);
        Assert.Equal("Bearer " + KeyBrakeHost.StripeSecret, received.Headers["Authorization"]);
        Assert.DoesNotContain(received.Headers.Values, v => v.Contains("vk_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StripeNet_DeniedCall_SurfacesKeyBrakesCodeAndNeverReachesVendor()
    {
        var (_, token) = await Host.CreateKeyAsync("stripe-net-denied", "stripe", ["POST /v1/payment_intents"]);

        var error = await Assert.ThrowsAsync<StripeException>(() => new ChargeService(StripeNet(token)).ListAsync());

        Assert.Equal(HttpStatusCode.Forbidden, error.HttpStatusCode);
        Assert.Equal("endpoint_not_allowed", error.StripeError.Code);
        Assert.Equal("keybrake_error", error.StripeError.Type);
        Assert.Empty(Vendor.Received);
    }

    [Fact]
    public async Task StripeNode_ThroughTheVendorPort_AllowedAndDenied()
    {
        var (_, token) = await Host.CreateKeyAsync("stripe-node-run", "stripe", ["POST /v1/payment_intents"]);
        var environment = new Dictionary<string, string> { ["KEYBRAKE_TOKEN"] = token, ["KEYBRAKE_STRIPE_PORT"] = Host.StripePort.ToString() };

        var allowed = await NodeClient.RunAsync("stripe-client.mjs", environment);
        var denied = await NodeClient.RunAsync("stripe-client.mjs", new(environment) { ["MODE"] = "denied" });

        Assert.True(allowed.GetProperty("ok").GetBoolean(), allowed.ToString());
        Assert.Equal("pi_123", allowed.GetProperty("id").GetString());
        Assert.False(denied.GetProperty("ok").GetBoolean());
        Assert.Equal(403, denied.GetProperty("status").GetInt32());
        Assert.Equal("endpoint_not_allowed", denied.GetProperty("code").GetString());
        var received = Assert.Single(Vendor.Received);
        Assert.Equal("/v1/payment_intents", received.Path);
        Assert.Equal("Bearer " + KeyBrakeHost.StripeSecret, received.Headers["Authorization"]);
        Assert.Equal("run-447-pi-1", received.Headers["Idempotency-Key"]);
    }

    [Fact]
    public async Task TwilioNode_SendsMessageWithBasicAccountSidAndSecret_AndCallsAreDenied()
    {
        var (_, token) = await Host.CreateKeyAsync("twilio-node-run", "twilio", ["POST /2010-04-01/Accounts/*/Messages.json"]);
        var environment = new Dictionary<string, string>
        {
            ["KEYBRAKE_TOKEN"] = token,
            ["KEYBRAKE_BASE_URL"] = Host.Proxy.BaseAddress!.ToString().TrimEnd('/'),
            ["TWILIO_ACCOUNT_SID"] = KeyBrakeHost.TwilioAccountSid,
        };

        var allowed = await NodeClient.RunAsync("twilio-client.mjs", environment);
        var denied = await NodeClient.RunAsync("twilio-client.mjs", new(environment) { ["MODE"] = "denied" });

        Assert.True(allowed.GetProperty("ok").GetBoolean(), allowed.ToString());
        Assert.Equal("SM123", allowed.GetProperty("sid").GetString());
        Assert.False(denied.GetProperty("ok").GetBoolean());
        Assert.Equal(403, denied.GetProperty("status").GetInt32());
        var received = Assert.Single(Vendor.Received);
        Assert.Equal($"/2010-04-01/Accounts/{KeyBrakeHost.TwilioAccountSid}/Messages.json", received.Path);
        Assert.Contains("Body=Your code is 123456", WebUtility.UrlDecode(received.Body), StringComparison.Ordinal);
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{KeyBrakeHost.TwilioAccountSid}:{KeyBrakeHost.TwilioSecret}"));
        Assert.Equal(basic, received.Headers["Authorization"]);
    }

    /// <summary>twilio-node's RestException reads only the top-level <c>code</c> and <c>message</c> (SPEC §4).</summary>
    [Fact]
    public async Task TwilioNode_KeyBrakeDenial_SurfacesItsCodeAndMessageInRestException()
    {
        var (_, token) = await Host.CreateKeyAsync("twilio-node-denied", "twilio", ["POST /2010-04-01/Accounts/*/Messages.json"]);

        var denied = await NodeClient.RunAsync("twilio-client.mjs", new()
        {
            ["KEYBRAKE_TOKEN"] = token,
            ["KEYBRAKE_BASE_URL"] = Host.Proxy.BaseAddress!.ToString().TrimEnd('/'),
            ["TWILIO_ACCOUNT_SID"] = KeyBrakeHost.TwilioAccountSid,
            ["MODE"] = "denied",
        });

        Assert.False(denied.GetProperty("ok").GetBoolean());
        Assert.Equal(403, denied.GetProperty("status").GetInt32());
        Assert.Equal("endpoint_not_allowed", denied.GetProperty("code").GetString());
        Assert.Contains("is not in the allowed endpoints", denied.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(Vendor.Received);
    }

    [Fact]
    public async Task ResendNode_SendsEmailThroughBaseUrl_AndOtherEndpointsAreDenied()
    {
        var (_, token) = await Host.CreateKeyAsync("resend-node-run", "resend", ["POST /emails"]);
        var environment = new Dictionary<string, string>
        {
            ["KEYBRAKE_TOKEN"] = token,
            ["RESEND_BASE_URL"] = Host.Proxy.BaseAddress!.ToString().TrimEnd('/') + "/resend",
        };

        var allowed = await NodeClient.RunAsync("resend-client.mjs", environment);
        var denied = await NodeClient.RunAsync("resend-client.mjs", new(environment) { ["MODE"] = "denied" });

        Assert.True(allowed.GetProperty("ok").GetBoolean(), allowed.ToString());
        Assert.Equal("49a3999c-0ce1-4ea6-ab68-afcd6dc2e794", allowed.GetProperty("id").GetString());
        Assert.False(denied.GetProperty("ok").GetBoolean());
        Assert.Equal("endpoint_not_allowed", denied.GetProperty("error").GetProperty("error").GetProperty("code").GetString());
        var received = Assert.Single(Vendor.Received);
        Assert.Equal("/emails", received.Path);
        Assert.Contains("jane@example.com", received.Body, StringComparison.Ordinal);
        Assert.Equal("Bearer " + KeyBrakeHost.ResendSecret, received.Headers["Authorization"]);
    }

    private StripeClient StripeNet(string token) => new(new StripeClientOptions
    {
        ApiKey = token,
        ApiBase = Host.Proxy.BaseAddress!.ToString().TrimEnd('/') + "/stripe",
        HttpClient = new SystemNetHttpClient(new HttpClient(), 0),
    });
}

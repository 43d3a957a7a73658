using System.Net;
using System.Text;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Spend;

/// <summary>
/// SPEC §5 default deny through the real host: a write in neither of the vendor's tables is 422
/// <c>unpriceable_request</c> until an operator lists it in <c>KeyBrake:Pricing:{vendor}:FreeWrites</c>; paths match
/// whole, never by suffix. The keys allow every path (<c>/*</c>), so pricing alone decides.
/// </summary>
public sealed class DefaultDenyPricingTests : HostedTest
{
    private const string Form = "application/x-www-form-urlencoded";
    private const string Account = "/2010-04-01/Accounts/" + KeyBrakeHost.TwilioAccountSid;

    private static readonly string LongSms = "To=%2B15555550100&From=%2B15555550199&Body=" + new string('a', 1500);

    [Theory]
    // The review's findings: suffix pricing made each of these $0 (a 1,500-character SMS went through a $0.01 key).
    [InlineData("twilio", "POST", Account + "/Messages")]
    [InlineData("twilio", "POST", Account + "/Messages.xml")]
    [InlineData("twilio", "POST", Account + "/messages.json")]
    [InlineData("twilio", "POST", Account + "/Calls")]
    [InlineData("twilio", "POST", Account + "/IncomingPhoneNumbers")]
    [InlineData("twilio", "POST", Account + "/IncomingPhoneNumbers/TollFree.json")]
    [InlineData("stripe", "POST", "/v1/charges/ch_123/refunds")]
    [InlineData("stripe", "POST", "/v1/charges/ch_123/refund")]
    [InlineData("stripe", "POST", "/v1/subscriptions")]
    [InlineData("stripe", "PUT", "/v1/payment_intents")]
    [InlineData("resend", "POST", "/broadcasts/b_123/send")]
    [InlineData("resend", "POST", "/broadcasts")]
    [InlineData("resend", "POST", "/api-keys")]
    public async Task UnpricedWrite_Is422_NothingReachesTheVendor_NothingSpent(string vendor, string method, string path)
    {
        var (id, token) = await Host.CreateKeyAsync($"unpriced-{vendor}", vendor, ["/*"], cap: 0.01m);
        var body = vendor == "resend" ? """{"from":"a@x.com","to":"b@x.com","subject":"s"}""" : vendor == "stripe" ? "amount=99999999&currency=usd" : LongSms;

        using var response = await PricedCall.SendAsync(Host, token, method, $"/{vendor}{path}", vendor == "resend" ? "application/json" : Form, Encoding.UTF8.GetBytes(body));

        await PricedCall.AssertUnpriceableAsync(Host, Vendor, id, response);
    }

    [Fact]
    public async Task LongSms_OnThePricedPath_IsPricedBySegments_AndRefusedByTheCap()
    {
        var (id, token) = await Host.CreateKeyAsync("long-sms", "twilio", ["/*"], cap: 0.01m);

        using var response = await PricedCall.SendAsync(Host, token, "POST", $"/twilio{Account}/Messages.json", Form, Encoding.UTF8.GetBytes(LongSms));

        await PricedCall.AssertOverCapAsync(Host, Vendor, id, response, 0.083m); // 10 segments × $0.0083
    }

    [Theory]
    [InlineData("stripe", "POST", "/v1/customers", "email=a%40example.com")]
    [InlineData("stripe", "POST", "/v1/payment_intents/pi_123/cancel", "")]
    [InlineData("twilio", "POST", Account + "/Messages/SM123.json", "Body=")]  // redaction
    [InlineData("twilio", "DELETE", Account + "/Messages/SM123.json", "")]
    [InlineData("resend", "PATCH", "/emails/49a3999c", """{"scheduled_at":"in 1 min"}""")]
    public async Task KnownFreeWrite_IsForwardedAtZero(string vendor, string method, string path, string body)
    {
        var (id, token) = await Host.CreateKeyAsync($"free-{vendor}", vendor, ["/*"], cap: 0.01m);

        using var response = await PricedCall.SendAsync(Host, token, method, $"/{vendor}{path}", vendor == "resend" ? "application/json" : Form, Encoding.UTF8.GetBytes(body));
        await Host.AuditFlushedAsync();

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var received = Assert.Single(Vendor.Received);
        Assert.Equal((method, path, body), (received.Method, received.Path, received.Body));
        Assert.Equal((0m, 0m), await PricedCall.SpendAsync(Host, id));
    }

    [Fact]
    public async Task OperatorFreeWrites_ForwardTheListedWriteAtZero_AndStillRefuseTheRest()
    {
        await using var host = await KeyBrakeHost.StartAsync(Vendor, new()
        {
            ["KeyBrake:Pricing:resend:FreeWrites:0"] = "POST /broadcasts/*/send",
            ["KeyBrake:Pricing:stripe:FreeWrites:0"] = "POST /v1/subscriptions",
        });
        var (resendId, resend) = await host.CreateKeyAsync("operator-free-resend", "resend", ["/*"], cap: 0.01m);
        var (stripeId, stripe) = await host.CreateKeyAsync("operator-free-stripe", "stripe", ["/*"], cap: 0.01m);
        var json = Encoding.UTF8.GetBytes("{}");

        using var listed = await PricedCall.SendAsync(host, resend, "POST", "/resend/broadcasts/b_123/send", "application/json", json);
        using var alsoListed = await PricedCall.SendAsync(host, stripe, "POST", "/stripe/v1/subscriptions", Form, Encoding.UTF8.GetBytes("customer=cus_1&items[0][price]=price_1"));
        var forwarded = Vendor.Received.Select(r => (r.Method, r.Path)).ToList();
        Vendor.Clear();
        using var notListed = await PricedCall.SendAsync(host, resend, "POST", "/resend/broadcasts", "application/json", json);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (listed.StatusCode, alsoListed.StatusCode));
        Assert.Equal([("POST", "/broadcasts/b_123/send"), ("POST", "/v1/subscriptions")], forwarded);
        Assert.Equal((0m, 0m), await PricedCall.SpendAsync(host, stripeId));
        await PricedCall.AssertUnpriceableAsync(host, Vendor, resendId, notListed);
    }
}

using System.Net.Http.Json;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Proxy;

/// <summary>
/// SPEC §4 step 2: the method is one of seven, spelled exactly. The review's critical finding: against a method-less
/// pattern, <c>-X Post</c> was priced as a read ($0) while the forwarder sent it as POST, so money moved past the cap.
/// Sent byte for byte (HttpClient would normalise the method); the vendor must receive nothing and nothing is spent.
/// </summary>
public sealed class MethodSpellingTests : HostedTest
{
    private const string Form = "application/x-www-form-urlencoded";
    private static readonly string TwilioMessages = $"/2010-04-01/Accounts/{KeyBrakeHost.TwilioAccountSid}/Messages.json";

    public static TheoryData<string, string, string, string, string, string> Attempts => new()
    {
        { "stripe", "/v1/charges", "Post", "/v1/charges", Form, "amount=99999999&currency=usd" },
        { "stripe", "/v1/charges", "post", "/v1/charges", Form, "amount=99999999&currency=usd" },
        { "stripe", "/v1/charges", "pOST", "/v1/charges", Form, "amount=99999999&currency=usd" },
        { "stripe", "/v1/payment_intents/*", "post", "/v1/payment_intents/pi_X/confirm", Form, "amount=99999999&currency=usd" },
        { "stripe", "/v1/payment_intents/*", "Post", "/v1/payment_intents/pi_X/confirm", Form, "" },
        { "stripe", "/v1/charges", "Get", "/v1/charges", Form, "" },
        { "twilio", "/2010-04-01/Accounts/*/Messages.json", "Post", TwilioMessages, Form, "To=%2B15555550100&From=%2B15555550199&Body=" + new string('x', 1500) },
        { "twilio", "/2010-04-01/Accounts/*/Messages.json", "post", TwilioMessages, Form, "To=%2B15555550100&From=%2B15555550199&Body=hi" },
        { "resend", "/emails", "Post", "/emails", "application/json", """{"from":"a@example.com","to":["b@example.com"],"subject":"s","html":"x"}""" },
        { "resend", "/emails", "pOST", "/emails", "application/json", """{"from":"a@example.com","to":["b@example.com"],"subject":"s","html":"x"}""" },
    };

    [Theory]
    [MemberData(nameof(Attempts))]
    public async Task MixedCaseMethod_AgainstAMethodlessPattern_Is400_NeverReachesVendor_AndSpendsNothing(
        string vendor, string pattern, string method, string path, string contentType, string body)
    {
        var (id, token) = await Host.CreateKeyAsync("method-spelling", vendor, [pattern], cap: 0);

        var (status, text) = await RawHttp.SendAsync(Host.ProxyPort, method, "/" + vendor + path,
            [$"Authorization: Bearer {token}", $"Content-Type: {contentType}"], body);

        Assert.Equal(400, status);
        using var json = JsonDocument.Parse(text);
        Assert.Equal("non_canonical_method", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("non_canonical_method", json.RootElement.GetProperty("code").GetString());
        Assert.Empty(Vendor.Received);
        var key = await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");
        Assert.Equal((0m, 0m), (key.GetProperty("spent_today_usd").GetDecimal(), key.GetProperty("reserved_usd").GetDecimal()));
        // The key is known, so the refusal is on its record, with the method as it was sent.
        await Host.AuditFlushedAsync();
        var denied = (await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={id}&type=proxy.denied")).GetProperty("entries").EnumerateArray().Single();
        Assert.Equal(("deny:non_canonical_method", method, path), (denied.GetProperty("decision").GetString(), denied.GetProperty("method").GetString(), denied.GetProperty("path").GetString()));
    }

    [Theory]
    [InlineData("stripe", "/v1/charges", "/v1/charges", Form, "amount=99999999&currency=usd")]
    [InlineData("resend", "/emails", "/emails", "application/json", """{"from":"a@example.com","to":["b@example.com"],"subject":"s","html":"x"}""")]
    public async Task CanonicalPost_AgainstTheSamePattern_IsPricedAndHeldToTheCap(string vendor, string pattern, string path, string contentType, string body)
    {
        var (id, token) = await Host.CreateKeyAsync("method-canonical", vendor, [pattern], cap: 0);

        var (status, text) = await RawHttp.SendAsync(Host.ProxyPort, "POST", "/" + vendor + path,
            [$"Authorization: Bearer {token}", $"Content-Type: {contentType}"], body);

        Assert.Equal(402, status);
        Assert.Contains("daily_cap_exceeded", text, StringComparison.Ordinal);
        Assert.Empty(Vendor.Received);
        var key = await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");
        Assert.Equal(0m, key.GetProperty("spent_today_usd").GetDecimal());
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.EndToEnd.Tests.Keys;

/// <summary>SPEC §3 <c>stripe_accounts</c> through the admin API: stored, shown, audited, hashed; Stripe keys only.</summary>
public sealed class StripeAccountsTests() : HostedTest(new FakeTimeProvider(new DateTimeOffset(2026, 6, 3, 9, 30, 0, TimeSpan.Zero)))
{
    [Fact]
    public async Task Create_WithStripeAccounts_ShowsThemInTheViewTheEntryAndThePolicyHash()
    {
        using var response = await Host.Admin.PostAsJsonAsync("/v1/keys", new
        {
            label = "connect-run-1",
            vendor = "stripe",
            allowed_endpoints = new[] { "GET /v1/balance" },
            daily_usd_cap = 5,
            stripe_accounts = new[] { "acct_1Zb", "acct_0Aa" },
            expires_in = "1h",
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var created = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var id = created.RootElement.GetProperty("id").GetString()!;

        using var fetched = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/keys/{id}"));
        Assert.Equal(["acct_1Zb", "acct_0Aa"], fetched.RootElement.GetProperty("stripe_accounts").EnumerateArray().Select(e => e.GetString()));
        const string jcs = """{"allowed_endpoints":["GET /v1/balance"],"approval_above_usd_micros":null,"daily_usd_cap_micros":5000000,"expires_at":"2026-06-03T10:30:00.000Z","max_usd_per_call_micros":null,"on_anomaly":null,"requests_per_minute":null,"stripe_accounts":["acct_1Zb","acct_0Aa"],"vendor":"stripe"}""";
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(jcs))), fetched.RootElement.GetProperty("policy_hash").GetString());
        var entry = await KeyEntryAsync(id, "key.created");
        Assert.Equal(["acct_1Zb", "acct_0Aa"], entry.GetProperty("details").GetProperty("after").GetProperty("stripe_accounts").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Patch_StripeAccounts_ChangesThemAndTheHash_AndKeyUpdatedShowsBeforeAndAfter()
    {
        var (id, _) = await Host.CreateKeyAsync("connect-run-2", "stripe", ["GET /v1/balance"]);
        using var before = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/keys/{id}"));

        using var patched = await Host.Admin.PatchAsJsonAsync($"/v1/keys/{id}", new { stripe_accounts = new[] { "acct_9" }, justification = "one connected account" });
        using var cleared = await Host.Admin.PatchAsJsonAsync($"/v1/keys/{id}", new { stripe_accounts = Array.Empty<string>(), justification = "none again" });

        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        using var middle = JsonDocument.Parse(await patched.Content.ReadAsStringAsync());
        Assert.Equal(["acct_9"], middle.RootElement.GetProperty("stripe_accounts").EnumerateArray().Select(e => e.GetString()));
        Assert.NotEqual(before.RootElement.GetProperty("policy_hash").GetString(), middle.RootElement.GetProperty("policy_hash").GetString());
        using var after = JsonDocument.Parse(await cleared.Content.ReadAsStringAsync());
        Assert.Empty(after.RootElement.GetProperty("stripe_accounts").EnumerateArray());
        Assert.Equal(before.RootElement.GetProperty("policy_hash").GetString(), after.RootElement.GetProperty("policy_hash").GetString()); // [] = absent = none
        var updated = await KeyEntryAsync(id, "key.updated");
        Assert.Empty(updated.GetProperty("details").GetProperty("before").GetProperty("stripe_accounts").EnumerateArray());
        Assert.Equal(["acct_9"], updated.GetProperty("details").GetProperty("after").GetProperty("stripe_accounts").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task CreateAndPatch_StripeAccountsOnANonStripeKeyOrMalformed_Are400NamingTheField()
    {
        var (resendId, _) = await Host.CreateKeyAsync("mail-run-1", "resend", ["POST /emails"]);

        using var twilio = await Host.Admin.PostAsJsonAsync("/v1/keys", new
        {
            label = "sms-run-1", vendor = "twilio", allowed_endpoints = new[] { "GET /x" }, daily_usd_cap = 1, stripe_accounts = new[] { "acct_1" },
        });
        using var patch = await Host.Admin.PatchAsJsonAsync($"/v1/keys/{resendId}", new { stripe_accounts = new[] { "acct_1" }, justification = "x" });
        using var malformed = await Host.Admin.PostAsJsonAsync("/v1/keys", new
        {
            label = "connect-run-3", vendor = "stripe", allowed_endpoints = new[] { "GET /x" }, daily_usd_cap = 1, stripe_accounts = new[] { "acct_1", "acct_1", "cus_2" },
        });

        await AssertFieldsAsync(twilio, "stripe_accounts");
        await AssertFieldsAsync(patch, "stripe_accounts");
        await AssertFieldsAsync(malformed, "stripe_accounts[1]", "stripe_accounts[2]");
    }

    private static async Task AssertFieldsAsync(HttpResponseMessage response, params string[] fields)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorJson.ReadAsync(response);
        Assert.Equal("invalid_request", error.GetProperty("code").GetString());
        Assert.Equal(fields, error.GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("field").GetString()));
    }

    private async Task<JsonElement> KeyEntryAsync(string id, string type)
    {
        await Host.AuditFlushedAsync();
        using var json = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/audit?key_id={id}&type={type}"));
        return json.RootElement.GetProperty("entries").EnumerateArray().First().Clone(); // the first of its type
    }
}

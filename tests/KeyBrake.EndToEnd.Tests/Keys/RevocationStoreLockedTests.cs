using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Keys;

/// <summary>
/// SPEC §3: revocation never fails because of the store. Another process (a real <c>sqlite3</c>) holds the database
/// while an operator revokes: the call answers 503 revocation_pending within a few seconds (it was a 500 after 10 s),
/// the key is refused from that moment, nothing reaches the vendor, and once the lock goes the store and the chain
/// both have the revocation, with its actor and reason.
/// </summary>
public sealed class RevocationStoreLockedTests : HostedTest
{
    private static readonly string[] Allowed = ["GET /v1/customers/*"];

    /// <summary>The admin call waits 2 s for the store (after at most 1 s to read the key); generous for a loaded CI machine.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(6);

    [Fact]
    public async Task Delete_WhileAnotherProcessHoldsBeginExclusive_Is503RevocationPending_RefusedAtOnce_DurableOnceReleased()
    {
        var (id, token) = await Host.CreateKeyAsync("run-447-agent", "stripe", Allowed);
        Assert.Equal(HttpStatusCode.OK, await CallAsync(token));
        var forwarded = Vendor.Received.Count;

        await using (await SqliteExclusiveLock.AcquireAsync(Host.DatabasePath))
        {
            var clock = Stopwatch.StartNew();
            using var revoke = await Host.Admin.DeleteAsync($"/v1/keys/{id}?reason=looping%20on%20refunds");
            clock.Stop();

            await AssertPendingAsync(revoke, clock.Elapsed, "key_id", id);
            Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(token, expectCode: "key_revoked"));
            Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(token, expectCode: "key_revoked"));
            Assert.Equal("active", await Host.KeyStatusAsync(id)); // the store has not got it yet: the process refuses it
        }

        await AssertRevokedDurablyAsync(id, "looping on refunds", labelPrefix: null);
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(token, expectCode: "key_revoked"));
        Assert.Equal(forwarded, Vendor.Received.Count);
        await AssertChainVerifiesAsync();
    }

    [Fact]
    public async Task KillSwitch_WhileAnotherProcessHoldsBeginExclusive_Is503RevocationPending_RefusesTheRun_DurableOnceReleased()
    {
        var (a, ta) = await Host.CreateKeyAsync("batch-2026-06-03-a", "stripe", Allowed);
        var (b, tb) = await Host.CreateKeyAsync("batch-2026-06-03-b", "stripe", Allowed);
        var (other, to) = await Host.CreateKeyAsync("batch-2026-06-04-a", "stripe", Allowed);
        Assert.Equal(HttpStatusCode.OK, await CallAsync(ta)); // a is cached, b is not: both must be refused

        await using (await SqliteExclusiveLock.AcquireAsync(Host.DatabasePath))
        {
            var clock = Stopwatch.StartNew();
            using var revoke = await Host.Admin.PostAsJsonAsync("/v1/keys/revoke", new { label_prefix = "batch-2026-06-03", reason = "kill switch" });
            clock.Stop();
            var forwarded = Vendor.Received.Count;

            await AssertPendingAsync(revoke, clock.Elapsed, "label_prefix", "batch-2026-06-03");
            Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(ta, expectCode: "key_revoked"));
            Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(tb, expectCode: "key_revoked"));
            Assert.Equal(forwarded, Vendor.Received.Count);
        }

        await AssertRevokedDurablyAsync(a, "kill switch", labelPrefix: "batch-2026-06-03");
        await AssertRevokedDurablyAsync(b, "kill switch", labelPrefix: "batch-2026-06-03");
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(ta, expectCode: "key_revoked"));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(tb, expectCode: "key_revoked"));
        Assert.Equal(HttpStatusCode.OK, await CallAsync(to)); // another run, untouched
        Assert.Equal("active", await Host.KeyStatusAsync(other));
        await AssertChainVerifiesAsync();
    }

    [Fact]
    public async Task Patch_OfAKeyWhoseRevocationIsPending_Is409_NeverWidensItBeforeTheStoreHasTheRevocation()
    {
        var (id, _) = await Host.CreateKeyAsync("run-501-agent", "stripe", Allowed, cap: 1);

        await using (await SqliteExclusiveLock.AcquireAsync(Host.DatabasePath))
        {
            using var revoke = await Host.Admin.DeleteAsync($"/v1/keys/{id}?reason=x");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, revoke.StatusCode);
            using var widen = await Host.Admin.PatchAsJsonAsync($"/v1/keys/{id}", new { daily_usd_cap = 1000, justification = "sneak" });
            Assert.Equal(HttpStatusCode.Conflict, widen.StatusCode);
        }

        await AssertRevokedDurablyAsync(id, "x", labelPrefix: null);
        using var key = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/keys/{id}"));
        Assert.Equal(1, key.RootElement.GetProperty("daily_usd_cap").GetDecimal());
    }

    [Fact]
    public async Task CliRevoke_WhileAnotherProcessHoldsTheDatabase_SaysRevocationPendingPlainly_Exit1_NoCrash()
    {
        var (id, token) = await Host.CreateKeyAsync("run-502-agent", "stripe", Allowed);

        await using (await SqliteExclusiveLock.AcquireAsync(Host.DatabasePath))
        {
            var one = await CliProcess.RunAsync(Host.AdminUrl, "keys", "revoke", id, "--reason", "cli");
            var run = await CliProcess.RunAsync(Host.AdminUrl, "keys", "revoke", "--label-prefix", "run-502", "--reason", "cli");

            foreach (var result in new[] { one, run })
            {
                Assert.True(result.ExitCode == 1, result.ToString());
                Assert.Contains("revocation pending (503 revocation_pending)", result.Stderr);
                Assert.Contains("refuses", result.Stderr);
                Assert.DoesNotContain("Exception", result.Stderr + result.Stdout);
            }
            Assert.Contains(id, one.Stderr);
            Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(token, expectCode: "key_revoked"));
        }

        await AssertRevokedDurablyAsync(id, "cli", labelPrefix: null);
        var again = await CliProcess.RunAsync(Host.AdminUrl, "keys", "revoke", id, "--reason", "cli");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("already revoked", again.Stdout);
    }

    [Fact]
    public async Task DashboardRevokeAndKillSwitch_WhileAnotherProcessHoldsTheDatabase_ShowRevocationPendingPlainly()
    {
        var (id, token) = await Host.CreateKeyAsync("run-503-agent", "stripe", Allowed);
        var (_, tb) = await Host.CreateKeyAsync("batch-2026-06-06-a", "stripe", Allowed);
        using var cookies = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(cookies) { BaseAddress = new Uri(Host.AdminUrl) };
        (await PostFormAsync(browser, "/signin", "/signin", ("token", KeyBrakeHost.AdminToken), ("returnUrl", ""))).Dispose();

        await using (await SqliteExclusiveLock.AcquireAsync(Host.DatabasePath))
        {
            using var revoke = await PostFormAsync(browser, "/?handler=Revoke", "/", ("id", id), ("reason", "from the dashboard"));
            var afterRevoke = await browser.GetStringAsync("/");
            using var kill = await PostFormAsync(browser, "/?handler=Kill", "/", ("labelPrefix", "batch-2026-06-06"), ("reason", "kill switch"));
            var afterKill = await browser.GetStringAsync("/");

            Assert.Equal((HttpStatusCode.Redirect, HttpStatusCode.Redirect), (revoke.StatusCode, kill.StatusCode));
            Assert.Contains("Revocation pending (503 revocation_pending)", afterRevoke);
            Assert.Contains("Kill switch pending (503 revocation_pending)", afterKill);
            Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(token, expectCode: "key_revoked"));
            Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(tb, expectCode: "key_revoked"));
        }

        await AssertRevokedDurablyAsync(id, "from the dashboard", labelPrefix: null);
    }

    /// <summary>A dashboard form post as a browser sends it: the page's antiforgery token, the session cookie.</summary>
    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient browser, string path, string formPage, params (string Name, string Value)[] fields)
    {
        var html = await browser.GetStringAsync(formPage);
        var antiforgery = System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        var form = fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).Append(new("__RequestVerificationToken", antiforgery));
        return await browser.PostAsync(path, new FormUrlEncodedContent(form));
    }

    private static async Task AssertPendingAsync(HttpResponseMessage response, TimeSpan took, string member, string value)
    {
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.True(took < Bound, $"the revocation answered after {took.TotalSeconds:0.0} s");
        var error = await ErrorJson.ReadAsync(response);
        Assert.Equal("revocation_pending", error.GetProperty("code").GetString());
        Assert.True(error.GetProperty("retryable").GetBoolean());
        Assert.Equal(value, error.GetProperty(member).GetString());
    }

    /// <summary>Once the store accepts writes again: the key is revoked there, and its one key.revoked entry is in the chain.</summary>
    private async Task AssertRevokedDurablyAsync(string id, string reason, string? labelPrefix)
    {
        var waited = Stopwatch.StartNew();
        JsonElement entries;
        while (true)
        {
            using var json = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/audit?key_id={id}&type=key.revoked"));
            entries = json.RootElement.GetProperty("entries").Clone();
            if ((entries.GetArrayLength() > 0 && await Host.KeyStatusAsync(id) == "revoked") || waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                break;
            }
            await Task.Delay(100);
        }
        using var key = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/keys/{id}"));
        Assert.Equal("revoked", key.RootElement.GetProperty("status").GetString());
        Assert.Equal(reason, key.RootElement.GetProperty("revoke_reason").GetString());
        Assert.Equal("principal:bootstrap", key.RootElement.GetProperty("revoked_by").GetString());
        var entry = Assert.Single(entries.EnumerateArray());
        Assert.Equal("principal:bootstrap", entry.GetProperty("actor").GetString());
        Assert.Equal(key.RootElement.GetProperty("policy_hash").GetString(), entry.GetProperty("policy_hash").GetString());
        using var details = JsonDocument.Parse(entry.GetProperty("details").GetRawText());
        Assert.Equal(reason, details.RootElement.GetProperty("reason").GetString());
        Assert.Equal(labelPrefix, details.RootElement.GetProperty("label_prefix").GetString());
    }

    private async Task AssertChainVerifiesAsync()
    {
        using var verify = JsonDocument.Parse(await Host.Admin.GetStringAsync("/v1/audit/verify"));
        Assert.True(verify.RootElement.GetProperty("ok").GetBoolean(), verify.RootElement.GetRawText());
    }

    private async Task<HttpStatusCode> CallAsync(string token, string? expectCode = null)
    {
        using var response = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
        if (expectCode is not null)
        {
            Assert.Equal(expectCode, (await ErrorJson.ReadAsync(response)).GetProperty("code").GetString());
        }
        return response.StatusCode;
    }
}

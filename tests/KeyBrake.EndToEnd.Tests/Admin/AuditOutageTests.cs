using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using KeyBrake.EndToEnd.Tests.Support;
using Microsoft.Data.Sqlite;

namespace KeyBrake.EndToEnd.Tests.Admin;

/// <summary>
/// The admin API and the dashboard while the audit log cannot commit (another process's trigger makes every insert into
/// the chain fail, as a failing disk would; the rest of the store works). A change that needs its entry first is
/// 503 <c>audit_unavailable</c> (retryable, SPEC §4), never a 500; a revocation never waits on the audit log and never
/// fails because of it (SPEC §3): the key is refused at once and its <c>key.revoked</c> entry follows once commits resume.
/// </summary>
public sealed partial class AuditOutageTests : IAsyncLifetime
{
    private static readonly string[] Allowed = ["GET /v1/customers/*"];

    private FakeVendor _vendor = null!;
    private KeyBrakeHost _host = null!;

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    public async Task InitializeAsync()
    {
        _vendor = await FakeVendor.StartAsync();
        // A proxied call gives up on its entry after 1 s (then 503): enough to start the outage quickly.
        _host = await KeyBrakeHost.StartAsync(_vendor, new() { ["KeyBrake:Audit:CommitTimeout"] = "1s" });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _vendor.DisposeAsync();
    }

    [Fact]
    public async Task DashboardRevoke_WhileAuditCommitsFail_RevokesAndSaysSo_KeyRefused_EntryFollowsOnceCommitsResume()
    {
        var (id, token) = await _host.CreateKeyAsync("outage-run-1", "stripe", Allowed);
        using var cookies = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(cookies) { BaseAddress = new Uri(_host.AdminUrl) };
        (await PostFormAsync(browser, "/signin", "/signin", ("token", KeyBrakeHost.AdminToken), ("returnUrl", ""))).Dispose();
        await StartOutageAsync();

        using var revoke = await PostFormAsync(browser, "/?handler=Revoke", "/", ("id", id), ("reason", "audit outage drill"));
        var page = await browser.GetStringAsync("/");
        var forwarded = _vendor.Received.Count;
        using var refused = await _host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));

        Assert.True(revoke.StatusCode == HttpStatusCode.Redirect, $"{(int)revoke.StatusCode}: {await revoke.Content.ReadAsStringAsync()}");
        Assert.Contains($"Revoked {id} (outage-run-1)", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("key_revoked", (await ErrorJson.ReadAsync(refused)).GetProperty("code").GetString());
        Assert.Equal(forwarded, _vendor.Received.Count);
        Assert.Equal("revoked", await _host.KeyStatusAsync(id));

        EndOutage();
        var entry = await KeyRevokedEntryAsync(id);
        Assert.Equal("principal:bootstrap", entry.GetProperty("actor").GetString());
        Assert.Equal("audit outage drill", entry.GetProperty("details").GetProperty("reason").GetString());
        await AssertChainVerifiesAsync();
    }

    [Fact]
    public async Task ApiPatch_WhileAuditCommitsFail_Is503AuditUnavailableRetryable_PolicyUnchanged_AppliesOnceCommitsResume()
    {
        var (id, token) = await _host.CreateKeyAsync("outage-run-2", "stripe", Allowed, cap: 1);
        await StartOutageAsync();

        using var patch = await _host.Admin.PatchAsJsonAsync($"/v1/keys/{id}", new { daily_usd_cap = 2, justification = "during the outage" });
        var body = await patch.Content.ReadAsStringAsync();

        Assert.True(patch.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)patch.StatusCode}: {body}");
        Assert.Equal("no-store", patch.Headers.CacheControl?.ToString());
        var error = await ErrorJson.ReadAsync(patch);
        Assert.Equal(("audit_unavailable", true), (error.GetProperty("code").GetString(), error.GetProperty("retryable").GetBoolean()));
        Assert.Contains("audit log", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        using (var key = JsonDocument.Parse(await _host.Admin.GetStringAsync($"/v1/keys/{id}")))
        {
            Assert.Equal(1m, key.RootElement.GetProperty("daily_usd_cap").GetDecimal());
        }

        EndOutage();
        // A commit ends the writer's failure state: the agent's next call is recorded, then the change goes through.
        using var served = await _host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_2", token));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        using var retried = await _host.Admin.PatchAsJsonAsync($"/v1/keys/{id}", new { daily_usd_cap = 2, justification = "after the outage" });
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        await AssertChainVerifiesAsync();
    }

    /// <summary>
    /// Makes every insert into the chain fail, then lets a proxied call find out (503 after CommitTimeout, nothing
    /// forwarded), so the writer is in its failure state before the test acts.
    /// </summary>
    private async Task StartOutageAsync()
    {
        var (_, token) = await _host.CreateKeyAsync("outage-probe", "stripe", Allowed);
        Sql("CREATE TRIGGER audit_outage BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END");
        var forwarded = _vendor.Received.Count;
        using var probe = await _host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_0", token));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, probe.StatusCode);
        Assert.Equal("audit_unavailable", (await ErrorJson.ReadAsync(probe)).GetProperty("code").GetString());
        Assert.Equal(forwarded, _vendor.Received.Count);
    }

    private void EndOutage() => Sql("DROP TRIGGER audit_outage");

    private void Sql(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_host.DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>A dashboard form post as a browser sends it: the page's antiforgery token, the session cookie.</summary>
    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient browser, string path, string formPage, params (string Name, string Value)[] fields)
    {
        var antiforgery = AntiforgeryField().Match(await browser.GetStringAsync(formPage)).Groups[1].Value;
        var form = fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).Append(new("__RequestVerificationToken", antiforgery));
        return await browser.PostAsync(path, new FormUrlEncodedContent(form));
    }

    /// <summary>The key's one key.revoked entry, waited for: it is queued, and committed once the chain accepts inserts.</summary>
    private async Task<JsonElement> KeyRevokedEntryAsync(string id)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            using var json = JsonDocument.Parse(await _host.Admin.GetStringAsync($"/v1/audit?key_id={id}&type=key.revoked"));
            var entries = json.RootElement.GetProperty("entries");
            if (entries.GetArrayLength() > 0 || waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                return Assert.Single(entries.EnumerateArray()).Clone();
            }
            await Task.Delay(100);
        }
    }

    private async Task AssertChainVerifiesAsync()
    {
        await _host.AuditFlushedAsync();
        using var verify = JsonDocument.Parse(await _host.Admin.GetStringAsync("/v1/audit/verify"));
        Assert.True(verify.RootElement.GetProperty("ok").GetBoolean(), verify.RootElement.GetRawText());
    }
}

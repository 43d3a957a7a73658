using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Admin.Dashboard;

/// <summary>
/// The dashboard in Debian's headless Chromium, driven by playwright-core (node/dashboard-browser.mjs) against a real
/// host: sign in, a key with its spend bar, the live tail updating on a proxied call, revoke with a reason, the next
/// call refused with 401 key_revoked and shown in the tail. Screenshots are kept in artifacts/screenshots/.
/// </summary>
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private FakeVendor _vendor = null!;
    private KeyBrakeHost _host = null!;

    public async Task InitializeAsync()
    {
        _vendor = await FakeVendor.StartAsync();
        _host = await KeyBrakeHost.StartAsync(_vendor, new() { ["KeyBrake:Audit:CheckpointEvery"] = "3" });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _vendor.DisposeAsync();
    }

    [Fact]
    public async Task SignIn_SeeSpend_WatchLiveTail_Revoke_NextCallRefused()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's chromium package (.ci/run does)");
        var auditorToken = await Principals.CreateAsync(_host, "sec-team", "auditor");
        var (keyId, token) = await _host.CreateKeyAsync("dash-run-1", "stripe", ["POST /v1/payment_intents"], cap: 50);
        using (var charge = await _host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
                   new FormUrlEncodedContent([new("amount", "2500"), new("currency", "usd")]))))
        {
            Assert.Equal(HttpStatusCode.OK, charge.StatusCode);
        }
        var shots = Path.Combine(RepositoryRoot(), "artifacts", "screenshots");
        Directory.CreateDirectory(shots);
        foreach (var old in Directory.EnumerateFiles(shots, "dashboard-*.png"))
        {
            File.Delete(old);
        }

        var result = await NodeClient.RunAsync("dashboard-browser.mjs", new()
        {
            ["ADMIN_URL"] = _host.AdminUrl,
            ["ADMIN_TOKEN"] = KeyBrakeHost.AdminToken,
            ["AUDITOR_TOKEN"] = auditorToken,
            ["PROXY_URL"] = _host.ProxyUrl,
            ["KEY_ID"] = keyId,
            ["KEY_TOKEN"] = token,
            ["LABEL"] = "dash-run-1",
            ["SHOTS"] = shots,
            ["CHROMIUM"] = Chromium,
        }, TimeSpan.FromSeconds(150), failureIsJson: true);

        var seen = result.GetProperty("observed");
        Assert.True(result.GetProperty("ok").GetBoolean(), result.ToString());
        Assert.True(seen.GetProperty("redirectedToSignIn").GetBoolean());
        Assert.Contains("not the token", seen.GetProperty("wrongTokenError").GetString());
        Assert.StartsWith("bootstrap", seen.GetProperty("principal").GetString());
        Assert.Contains("$25.00 / $50.00", seen.GetProperty("rowText").GetString());
        Assert.Equal(25, seen.GetProperty("meter").GetProperty("value").GetDouble());
        Assert.Equal(50, seen.GetProperty("meter").GetProperty("max").GetDouble());
        Assert.Equal(200, seen.GetProperty("liveCall").GetProperty("status").GetInt32());
        Assert.Equal(["proxy.response", "proxy.request", "proxy.response", "proxy.request", "key.created"],
            seen.GetProperty("tailAfterCall").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(["key.created"], seen.GetProperty("historyTypes").EnumerateArray().Select(e => e.GetString()!));
        Assert.Contains("401 key_revoked", seen.GetProperty("confirmText").GetString());
        Assert.Equal("revoked", seen.GetProperty("statusAfterRevoke").GetString());
        Assert.Contains("runaway loop seen on the dashboard", seen.GetProperty("revokedText").GetString());
        Assert.True(seen.GetProperty("revokeFormGone").GetBoolean());
        Assert.Equal(401, seen.GetProperty("afterRevokeCall").GetProperty("status").GetInt32());
        Assert.Equal("key_revoked", seen.GetProperty("afterRevokeCall").GetProperty("code").GetString());
        Assert.Contains("deny:key_revoked", seen.GetProperty("deniedRow").GetString());
        Assert.Equal("denied", seen.GetProperty("deniedRowClass").GetString());
        Assert.Equal(["key.created", "proxy.request", "proxy.response", "proxy.request", "proxy.response", "key.revoked", "proxy.denied"],
            seen.GetProperty("auditTypes").EnumerateArray().Select(e => e.GetString()!));
        Assert.Contains("http_status", seen.GetProperty("auditError").GetString());
        Assert.StartsWith("OK:", seen.GetProperty("verify").GetString());
        Assert.True(seen.GetProperty("checkpointRows").GetInt32() >= 2);
        Assert.True(seen.GetProperty("auditorSeesKey").GetBoolean());
        Assert.Equal(0, seen.GetProperty("auditorRevokeButtons").GetInt32());
        foreach (var shot in new[] { "dashboard-keys.png", "dashboard-key-live.png", "dashboard-key-revoked.png", "dashboard-audit.png", "dashboard-integrity.png" })
        {
            Assert.True(new FileInfo(Path.Combine(shots, shot)).Length > 10_000, shot);
        }

        // The revocation is the principal's, with its reason, in the audit log.
        await _host.AuditFlushedAsync();
        var audit = await _host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={keyId}&type=key.revoked");
        var revoked = Assert.Single(audit.GetProperty("entries").EnumerateArray());
        Assert.Equal("principal:bootstrap", revoked.GetProperty("actor").GetString());
        Assert.Equal("runaway loop seen on the dashboard", revoked.GetProperty("details").GetProperty("reason").GetString());
    }

    private static string RepositoryRoot() => Path.GetFullPath(Path.Combine(NodeClient.Directory, "..", "..", ".."));
}

using System.Diagnostics;
using System.Net;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.EndToEnd.Tests.Keys;

/// <summary>
/// SPEC §3: a key.expired entry (actor system) within one minute of each key's expiry, exactly once per key (across a
/// restart too), never for a key revoked before it expired. The clock is a FakeTimeProvider moved by the test.
/// </summary>
public sealed class KeyExpirySweepTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 6, 3, 9, 30, 0, TimeSpan.Zero));
    private readonly string _directory = Directory.CreateTempSubdirectory("keybrake-e2e-").FullName;
    private FakeVendor _vendor = null!;
    private KeyBrakeHost _host = null!;

    public async Task InitializeAsync()
    {
        _vendor = await FakeVendor.StartAsync();
        _host = await StartAsync();
    }

    [Fact]
    public async Task Sweep_WritesOneKeyExpiredWithinAMinute_OncePerKey_EvenAcrossARestart_NeverForAKeyRevokedFirst()
    {
        var (expiring, token) = await _host.CreateKeyAsync("run-447-a", "stripe", ["GET /v1/customers/*"], ttl: "90s");
        var (revokedFirst, _) = await _host.CreateKeyAsync("run-447-b", "stripe", ["GET /v1/customers/*"], ttl: "90s");
        var (later, _) = await _host.CreateKeyAsync("run-447-c", "stripe", ["GET /v1/customers/*"], ttl: "1h");
        _time.Advance(TimeSpan.FromSeconds(30));
        (await _host.Admin.DeleteAsync($"/v1/keys/{revokedFirst}?reason=done")).EnsureSuccessStatusCode();

        // Past the expiry by under a minute, in the sweep's steps.
        _time.Advance(TimeSpan.FromSeconds(60));
        _time.Advance(TimeSpan.FromSeconds(30));
        var entry = await WaitForExpiredAsync(expiring);
        using (var key = JsonDocument.Parse(await _host.Admin.GetStringAsync($"/v1/keys/{expiring}")))
        {
            Assert.Equal("system", entry.GetProperty("actor").GetString());
            Assert.Equal("run-447-a", entry.GetProperty("label").GetString());
            Assert.Equal(key.RootElement.GetProperty("policy_hash").GetString(), entry.GetProperty("policy_hash").GetString());
            Assert.Equal("2026-06-03T09:31:30.000Z", entry.GetProperty("details").GetProperty("expires_at").GetString());
            Assert.True(DateTimeOffset.Parse(entry.GetProperty("ts").GetString()!) - DateTimeOffset.Parse("2026-06-03T09:31:30Z") <= TimeSpan.FromMinutes(1));
        }
        using (var call = await _host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token)))
        {
            Assert.Equal("key_expired", (await ErrorJson.ReadAsync(call)).GetProperty("code").GetString());
        }

        for (var i = 0; i < 6; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(30));
        }
        await _host.AuditFlushedAsync();
        await _host.DisposeAsync();
        _host = await StartAsync(); // the sweep runs at start: it must not write the entry again
        _time.Advance(TimeSpan.FromSeconds(30));
        await WaitForExpiredAsync(later, expectNone: true);

        _time.Advance(TimeSpan.FromHours(1));
        await WaitForExpiredAsync(later);
        Assert.Single(await EntriesAsync(expiring, "key.expired"));
        Assert.Empty(await EntriesAsync(revokedFirst, "key.expired"));
        Assert.Single(await EntriesAsync(later, "key.expired"));
        using var verify = JsonDocument.Parse(await _host.Admin.GetStringAsync("/v1/audit/verify"));
        Assert.True(verify.RootElement.GetProperty("ok").GetBoolean(), verify.RootElement.GetRawText());
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _vendor.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private Task<KeyBrakeHost> StartAsync() => KeyBrakeHost.StartAsync(_vendor, time: _time, dataDirectory: _directory, keepData: true);

    /// <summary>Waits (in real time) for the key's key.expired entry; with <paramref name="expectNone"/>, checks a while that none comes.</summary>
    private async Task<JsonElement> WaitForExpiredAsync(string keyId, bool expectNone = false)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(expectNone ? 2 : 30))
        {
            var entries = await EntriesAsync(keyId, "key.expired");
            if (entries.Count > 0)
            {
                Assert.False(expectNone, $"{keyId} got key.expired before it expired");
                return Assert.Single(entries);
            }
            await Task.Delay(50);
        }
        Assert.True(expectNone, $"no key.expired for {keyId} after 30 s");
        return default;
    }

    private async Task<List<JsonElement>> EntriesAsync(string keyId, string type)
    {
        using var json = JsonDocument.Parse(await _host.Admin.GetStringAsync($"/v1/audit?key_id={keyId}&type={type}"));
        return [.. json.RootElement.GetProperty("entries").EnumerateArray().Select(e => e.Clone())];
    }
}

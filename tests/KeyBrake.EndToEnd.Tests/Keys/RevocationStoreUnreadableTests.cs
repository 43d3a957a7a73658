using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;
using KeyBrake.Keys;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace KeyBrake.EndToEnd.Tests.Keys;

/// <summary>
/// SPEC §3 when the store cannot even be read (a lost volume, a corrupt file): a revocation by id cannot learn whether
/// the key exists, and a kill switch cannot learn which keys match; both are refused in memory regardless (by id, by
/// label prefix) and written once the store answers. SQLite with KeyBrake's connections open cannot be made unreadable
/// from outside (a real sqlite3's exclusive locking mode waits for them), so the real store is wrapped in one whose
/// every call fails like a locked database while <see cref="FailingStore.Failing"/> is set.
/// </summary>
public sealed class RevocationStoreUnreadableTests : IAsyncLifetime
{
    private static readonly string[] Allowed = ["GET /v1/customers/*"];
    private FakeVendor _vendor = null!;
    private KeyBrakeHost _host = null!;
    private FailingStore _store = null!;

    public async Task InitializeAsync()
    {
        _vendor = await FakeVendor.StartAsync();
        _host = await KeyBrakeHost.StartAsync(_vendor, services: s =>
        {
            s.AddSingleton<KeyBrake.Storage.Sqlite.SqliteKeyStore>();
            s.AddSingleton<IKeyStore>(sp => _store = new FailingStore(sp.GetRequiredService<KeyBrake.Storage.Sqlite.SqliteKeyStore>()));
        });
    }

    [Fact]
    public async Task DeleteAndKillSwitch_StoreUnreadable_Are503RevocationPending_KeysRefusedAtOnce_DurableOnceItAnswers()
    {
        var (id, token) = await _host.CreateKeyAsync("run-500-agent", "stripe", Allowed);
        var (a, ta) = await _host.CreateKeyAsync("batch-2026-06-05-a", "stripe", Allowed);
        Assert.Equal(HttpStatusCode.OK, await CallAsync(token)); // cached: the proxy can still serve it without the store
        Assert.Equal(HttpStatusCode.OK, await CallAsync(ta));
        var forwarded = _vendor.Received.Count;

        _store.Failing = true;
        var clock = Stopwatch.StartNew();
        using var revoke = await _host.Admin.DeleteAsync($"/v1/keys/{id}?reason=unreadable");
        using var kill = await _host.Admin.PostAsJsonAsync("/v1/keys/revoke", new { label_prefix = "batch-2026-06-05", reason = "kill switch" });
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "revocation_pending"), (revoke.StatusCode, (await ErrorJson.ReadAsync(revoke)).GetProperty("code").GetString()));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "revocation_pending"), (kill.StatusCode, (await ErrorJson.ReadAsync(kill)).GetProperty("code").GetString()));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(token, "key_revoked"));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(ta, "key_revoked"));
        Assert.Equal(forwarded, _vendor.Received.Count);

        _store.Failing = false;
        await WaitUntilRevokedAsync(id);
        await WaitUntilRevokedAsync(a);
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(token, "key_revoked"));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(ta, "key_revoked"));
        Assert.Equal(forwarded, _vendor.Received.Count);
        using var mine = JsonDocument.Parse(await _host.Admin.GetStringAsync($"/v1/keys/{id}"));
        Assert.Equal("unreadable", mine.RootElement.GetProperty("revoke_reason").GetString());
    }

    private async Task WaitUntilRevokedAsync(string id)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            using var json = JsonDocument.Parse(await _host.Admin.GetStringAsync($"/v1/audit?key_id={id}&type=key.revoked"));
            if (json.RootElement.GetProperty("entries").GetArrayLength() == 1 && await _host.KeyStatusAsync(id) == "revoked")
            {
                return;
            }
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"{id} was not revoked durably within 30 s");
            await Task.Delay(100);
        }
    }

    private async Task<HttpStatusCode> CallAsync(string token, string? expectCode = null)
    {
        using var response = await _host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
        if (expectCode is not null)
        {
            Assert.Equal(expectCode, (await ErrorJson.ReadAsync(response)).GetProperty("code").GetString());
        }
        return response.StatusCode;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _vendor.DisposeAsync();
    }

    /// <summary>The real store, failing every call like a database nobody can open while <see cref="Failing"/> is set.</summary>
    private sealed class FailingStore(IKeyStore real) : IKeyStore
    {
        public volatile bool Failing;

        private T Check<T>(T next) => Failing ? throw new SqliteException("database is locked", 5) : next;

        public Task InsertAsync(VaultKey key, CancellationToken cancellationToken) => Check(() => real.InsertAsync(key, cancellationToken))();
        public Task<VaultKey?> FindByIdAsync(string id, CancellationToken cancellationToken) => Check(() => real.FindByIdAsync(id, cancellationToken))();
        public Task<VaultKey?> FindByTokenHashAsync(string tokenHash, CancellationToken cancellationToken) => Check(() => real.FindByTokenHashAsync(tokenHash, cancellationToken))();
        public Task<IReadOnlyList<VaultKey>> ListAsync(KeyQuery query, DateTimeOffset now, CancellationToken cancellationToken) => Check(() => real.ListAsync(query, now, cancellationToken))();
        public Task<bool> UpdatePolicyAsync(VaultKey updated, CancellationToken cancellationToken) => Check(() => real.UpdatePolicyAsync(updated, cancellationToken))();
        public Task<IReadOnlyList<VaultKey>> RevokeAsync(KeyRevocation revocation, CancellationToken cancellationToken) => Check(() => real.RevokeAsync(revocation, cancellationToken))();
        public Task<IReadOnlyList<VaultKey>> ListUnrecordedExpiriesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) => Check(() => real.ListUnrecordedExpiriesAsync(now, limit, cancellationToken))();
        public Task MarkExpiryRecordedAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) => Check(() => real.MarkExpiryRecordedAsync(id, at, cancellationToken))();
    }
}

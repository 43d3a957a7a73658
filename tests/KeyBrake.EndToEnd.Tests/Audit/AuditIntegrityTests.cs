using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;
using Microsoft.Data.Sqlite;

namespace KeyBrake.EndToEnd.Tests.Audit;

/// <summary>
/// Tampering with the SQLite file between runs, and database faults while serving: verify names the first bad seq,
/// a broken tail stops proxy traffic until acknowledged, and no call is ever forwarded unrecorded.
/// </summary>
public sealed class AuditIntegrityTests : IAsyncLifetime
{
    private FakeVendor _vendor = null!;
    private string _data = null!;

    public async Task InitializeAsync()
    {
        _vendor = await FakeVendor.StartAsync();
        _data = Directory.CreateTempSubdirectory("keybrake-tamper-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _vendor.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    [Theory]
    [InlineData("UPDATE audit_entries SET cost_usd_micros = 1 WHERE seq = 6", 6)]
    [InlineData("UPDATE audit_entries SET details = '{\"amount_minor\":1}' WHERE seq = 4", 4)]
    [InlineData("DELETE FROM audit_entries WHERE seq = 5", 5)]
    [InlineData("UPDATE audit_entries SET seq = -seq WHERE seq IN (7, 8); UPDATE audit_entries SET seq = 8 WHERE seq = -7; UPDATE audit_entries SET seq = 7 WHERE seq = -8", 7)]
    public async Task Verify_AfterTamperingWithTheFile_NamesTheFirstBadSeq(string tamper, long firstBad)
    {
        await MakeCallsAsync(calls: 6);
        Tamper(tamper);

        await using var host = await StartAsync();
        var verify = await host.Admin.GetFromJsonAsync<JsonElement>("/v1/audit/verify");

        Assert.False(verify.GetProperty("ok").GetBoolean());
        Assert.Equal(firstBad, verify.GetProperty("first_bad_seq").GetInt64());
        Assert.False(string.IsNullOrEmpty(verify.GetProperty("problem").GetString()));
    }

    [Fact]
    public async Task TruncatedTail_StopsProxyTraffic_UntilAcknowledged_AndTheAcknowledgementIsAnEntry()
    {
        var token = await MakeCallsAsync(calls: 6); // checkpoints every 5 entries, and a last one at shutdown
        Tamper("DELETE FROM audit_entries WHERE seq > 9; DELETE FROM audit_checkpoints"); // the file outside keeps them

        long firstBad;
        await using (var blocked = await StartAsync())
        {
            using var refused = await blocked.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_x", token));
            var verify = await blocked.Admin.GetFromJsonAsync<JsonElement>("/v1/audit/verify");
            using var notReady = await blocked.Admin.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            firstBad = verify.GetProperty("first_bad_seq").GetInt64();

            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("audit_unavailable", (await ErrorJson.ReadAsync(refused)).GetProperty("code").GetString());
            Assert.Equal(10, firstBad);
            Assert.Contains("removed from the end", verify.GetProperty("problem").GetString(), StringComparison.Ordinal);
        }
        var forwardedBefore = _vendor.Received.Count;

        await using var acknowledged = await StartAsync(new() { ["KeyBrake:Audit:AcknowledgeBrokenChainAt"] = firstBad.ToString() });
        using var served = await acknowledged.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_y", token));
        var entry = (await acknowledged.Admin.GetFromJsonAsync<JsonElement>("/v1/audit?type=audit.chain_acknowledged")).GetProperty("entries")[0];

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(forwardedBefore + 1, _vendor.Received.Count);
        Assert.Equal(("system", 10L), (entry.GetProperty("actor").GetString(), entry.GetProperty("details").GetProperty("first_bad_seq").GetInt64()));
    }

    [Fact]
    public async Task WholeChainRewritten_SelfConsistently_IsCaughtByTheCheckpoints()
    {
        await MakeCallsAsync(calls: 6);
        RewriteChain("UPDATE audit_entries SET path = '/v1/refunds' WHERE seq = 3");

        await using var host = await StartAsync();
        var verify = await host.Admin.GetFromJsonAsync<JsonElement>("/v1/audit/verify");

        Assert.False(verify.GetProperty("ok").GetBoolean());
        Assert.Equal(1, verify.GetProperty("first_bad_seq").GetInt64());
        Assert.Contains("rewritten", verify.GetProperty("problem").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatabaseRefusingWrites_Is503_AndNothingIsForwarded_ThenServesAgain()
    {
        await using var host = await StartAsync();
        var (_, token) = await host.CreateKeyAsync("fault-run", "stripe", ["GET /v1/customers/*"]);
        Tamper("CREATE TRIGGER fault BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END");

        using var refused = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
        var error = await ErrorJson.ReadAsync(refused);
        using var notReady = await host.Admin.GetAsync("/readyz");
        Tamper("DROP TRIGGER fault");
        using var served = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_2", token));
        using var ready = await host.Admin.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        Assert.Contains("audit commits failing", await notReady.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(("audit_unavailable", true), (error.GetProperty("code").GetString(), error.GetProperty("retryable").GetBoolean()));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(["/v1/customers/cus_2"], _vendor.Received.Select(r => r.Path));
        var requests = (await host.Admin.GetFromJsonAsync<JsonElement>("/v1/audit?type=proxy.request")).GetProperty("entries");
        Assert.Equal(["/v1/customers/cus_2"], requests.EnumerateArray().Select(e => e.GetProperty("path").GetString()));
        await host.AuditFlushedAsync();
        Assert.True((await host.Admin.GetFromJsonAsync<JsonElement>("/v1/audit/verify")).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task DatabaseLockedPastTheCommitTimeout_Is503_AndTheWithdrawnEntryNeverAppears()
    {
        await using var host = await StartAsync(new() { ["KeyBrake:Audit:CommitTimeout"] = "00:00:00.300" });
        var (_, token) = await host.CreateKeyAsync("lock-run", "stripe", ["GET /v1/customers/*"]);

        using (var locker = new SqliteConnection($"Data Source={host.DatabasePath};Pooling=False"))
        {
            locker.Open();
            using var transaction = locker.BeginTransaction(deferred: false);
            using var refused = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("audit_unavailable", (await ErrorJson.ReadAsync(refused)).GetProperty("code").GetString());
            transaction.Rollback();
        }
        using var served = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_2", token));

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(["/v1/customers/cus_2"], _vendor.Received.Select(r => r.Path));
        var requests = (await host.Admin.GetFromJsonAsync<JsonElement>("/v1/audit?type=proxy.request")).GetProperty("entries");
        Assert.Equal(["/v1/customers/cus_2"], requests.EnumerateArray().Select(e => e.GetProperty("path").GetString()));
    }

    /// <summary>A host on the shared data directory, checkpointing every 5 entries.</summary>
    private Task<KeyBrakeHost> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?> { ["KeyBrake:Audit:CheckpointEvery"] = "5" };
        foreach (var (k, v) in settings ?? [])
        {
            all[k] = v;
        }
        return KeyBrakeHost.StartAsync(_vendor, all, dataDirectory: _data, keepData: true);
    }

    /// <summary>Entries 1–2: principal.created, key.created; then a request and a response per call.</summary>
    private async Task<string> MakeCallsAsync(int calls)
    {
        await using var host = await StartAsync();
        var (_, token) = await host.CreateKeyAsync("tamper-run", "stripe", ["GET /v1/customers/*"]);
        for (var i = 0; i < calls; i++)
        {
            using var response = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, $"/stripe/v1/customers/cus_{i}", token));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        return token;
    }

    private void Tamper(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_data, "data", "keybrake.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        // Someone with the file can drop KeyBrake's append-only triggers first.
        command.CommandText = "DROP TRIGGER IF EXISTS audit_entries_no_update; DROP TRIGGER IF EXISTS audit_entries_no_delete; " + sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Changes an entry, then recomputes every hash and link so the chain is self-consistent again.</summary>
    private void RewriteChain(string sql)
    {
        Tamper(sql);
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_data, "data", "keybrake.db")};Pooling=False");
        connection.Open();
        var entries = KeyBrake.Storage.Sqlite.SqliteAuditRows.ReadAfter(connection, 0).ToList();
        var prev = KeyBrake.Audit.AuditHash.Genesis;
        foreach (var original in entries)
        {
            var entry = original with { PrevHash = prev };
            entry = entry with { Hash = KeyBrake.Audit.AuditHash.Compute(entry) };
            using var update = connection.CreateCommand();
            update.CommandText = "UPDATE audit_entries SET prev_hash = $p, hash = $h WHERE seq = $s";
            update.Parameters.AddWithValue("$p", entry.PrevHash);
            update.Parameters.AddWithValue("$h", entry.Hash);
            update.Parameters.AddWithValue("$s", entry.Seq);
            update.ExecuteNonQuery();
            prev = entry.Hash;
        }
    }
}

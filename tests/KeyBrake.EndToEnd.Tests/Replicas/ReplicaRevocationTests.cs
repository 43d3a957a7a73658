using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Replicas;

/// <summary>
/// SPEC §9: a revocation on any replica is effective for every request that starts afterwards on every replica, and
/// the chain proves it (§7). Clients hammer replicas B and C while A revokes; another run's key must never fail.
/// </summary>
[Collection(ReplicaTestGroup.Name)]
public sealed class ReplicaRevocationTests
{
    private const int WorkersPerKeyAndReplica = 3;
    private const int MinVictimsAfterRevoke = 20;
    private const int MinBystanders = 40;
    private static readonly TimeSpan Phase = TimeSpan.FromMilliseconds(600);

    [Fact]
    public async Task RevokeOnA_WhileBAndCServeTheKey_EveryRequestStartedAfterwardsIsRefusedOnEveryReplica()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var replicas = await ReplicaSet.StartAsync(vendor, 3, ReplicaSpendTests.Quiet);
        var (victimId, victim) = await replicas[1].CreateKeyAsync("run-901-agent", "stripe", ["GET /v1/customers/*"]);
        var (_, bystander) = await replicas[2].CreateKeyAsync("run-902-agent", "stripe", ["GET /v1/customers/*"]);

        var results = await RaceAsync(replicas, [victim], [bystander], () =>
            ReplicaSpendTests.RevokeAsync(replicas[0], admin => admin.DeleteAsync($"/v1/keys/{victimId}?reason=race")));

        AssertRevocationHeld(results);
        await ReplicaSpendTests.AssertNoRequestAfterRevocationAsync(replicas[2], victimId);
    }

    [Fact]
    public async Task RevokeByLabelPrefixOnA_WhileBAndCServeTheRun_StopsTheWholeRunOnEveryReplica()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var replicas = await ReplicaSet.StartAsync(vendor, 3, ReplicaSpendTests.Quiet);
        var (firstId, first) = await replicas[1].CreateKeyAsync("batch-2026-12-01-a", "stripe", ["GET /v1/customers/*"]);
        var (secondId, second) = await replicas[2].CreateKeyAsync("batch-2026-12-01-b", "stripe", ["GET /v1/customers/*"]);
        var (_, bystander) = await replicas[1].CreateKeyAsync("batch-2026-12-02-a", "stripe", ["GET /v1/customers/*"]);

        var results = await RaceAsync(replicas, [first, second], [bystander], () =>
            ReplicaSpendTests.RevokeAsync(replicas[0], admin => admin.PostAsJsonAsync("/v1/keys/revoke", new { label_prefix = "batch-2026-12-01", reason = "kill switch" })));

        AssertRevocationHeld(results);
        foreach (var id in new[] { firstId, secondId })
        {
            var key = await replicas[2].Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");
            Assert.Equal("revoked", key.GetProperty("status").GetString());
        }
        await ReplicaSpendTests.AssertNoRequestAfterRevocationAsync(replicas[1], firstId);
        await ReplicaSpendTests.AssertNoRequestAfterRevocationAsync(replicas[1], secondId);
    }

    /// <summary>
    /// A revocation whose key.revoked cannot be committed (another session holds the chain's lock) is 503
    /// revocation_pending; repeating it, on either replica, stays 503 while the store already has the key revoked,
    /// and answers 200 only once the entry is in the chain.
    /// </summary>
    [Fact]
    public async Task RevokeWhileTheChainIsHeld_IsPending_AndARepeatOnAnyReplicaStaysPendingUntilKeyRevokedIsCommitted()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var replicas = await ReplicaSet.StartAsync(vendor, 2, ReplicaSpendTests.Quiet);
        var (id, _) = await replicas[1].CreateKeyAsync("run-903-agent", "stripe", ["GET /v1/customers/*"]);
        var holder = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(replicas.ConnectionString) { Pooling = false }.ConnectionString);
        await holder.OpenAsync();
        const long chainLock = global::KeyBrake.Storage.Postgres.PostgresAuditChainStore.ChainLock;
        await using (var take = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock({chainLock})", holder))
        {
            await take.ExecuteNonQueryAsync();
        }

        using var first = await replicas[0].Admin.DeleteAsync($"/v1/keys/{id}?reason=held");
        using var repeatedHere = await replicas[0].Admin.DeleteAsync($"/v1/keys/{id}?reason=held");
        using var repeatedThere = await replicas[1].Admin.DeleteAsync($"/v1/keys/{id}?reason=held");
        await holder.DisposeAsync(); // the session ends: the lock is released and the queued key.revoked is committed
        await ReplicaSpendTests.RevokeAsync(replicas[1], admin => admin.DeleteAsync($"/v1/keys/{id}?reason=held"));

        Assert.All(new[] { first, repeatedHere, repeatedThere }, r => Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode));
        Assert.Contains("revocation_pending", await repeatedThere.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var revoked = IndependentAudit.VerifyExport(await replicas[1].Admin.GetStringAsync("/v1/audit/export?format=ndjson"))
            .Where(e => (string?)e["key_id"] == id && (string)e["type"]! == "key.revoked").ToList();
        Assert.Single(revoked);
    }

    private static void AssertRevocationHeld(IReadOnlyCollection<Outcome> results)
    {
        var victims = results.Where(r => r.Victim).ToList();
        var bystanders = results.Where(r => !r.Victim).ToList();
        var afterRevoke = victims.Where(r => r.StartedAfterRevoke).ToList();

        Assert.Contains(victims, r => !r.StartedAfterRevoke && r.Status == 200); // the race happened: served before
        Assert.True(afterRevoke.Count >= MinVictimsAfterRevoke, $"only {afterRevoke.Count} victim requests after the revoke");
        var wrong = afterRevoke.Where(r => (r.Status, r.Code) != (401, "key_revoked")).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} requests started after the revoke were not refused: {string.Join(", ", wrong.Take(5))}");
        Assert.True(bystanders.Count >= MinBystanders, $"only {bystanders.Count} bystander requests");
        Assert.All(bystanders, r => Assert.Equal(200, r.Status));
    }

    /// <summary>Workers on replicas B and C (1 and 2) for every key; <paramref name="revoke"/> runs against A meanwhile.</summary>
    private static async Task<IReadOnlyCollection<Outcome>> RaceAsync(ReplicaSet replicas, string[] victims, string[] bystanders, Func<Task> revoke)
    {
        var results = new ConcurrentBag<Outcome>();
        var revoked = 0;
        using var stop = new CancellationTokenSource();

        async Task Worker(KeyBrakeProcess replica, string token, bool victim)
        {
            while (!stop.IsCancellationRequested)
            {
                var startedAfter = Volatile.Read(ref revoked) == 1;
                using var request = new HttpRequestMessage(HttpMethod.Get, "/stripe/v1/customers/cus_race");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await replica.Proxy.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                string? code = null;
                if (!response.IsSuccessStatusCode)
                {
                    using var json = JsonDocument.Parse(body);
                    code = json.RootElement.GetProperty("error").GetProperty("code").GetString();
                }
                results.Add(new Outcome(victim, startedAfter, (int)response.StatusCode, code, replica.ProxyPort));
            }
        }

        var servers = new[] { replicas[1], replicas[2] };
        var workers = (
            from replica in servers
            from key in victims.Select(t => (Token: t, Victim: true)).Concat(bystanders.Select(t => (Token: t, Victim: false)))
            from _ in Enumerable.Range(0, WorkersPerKeyAndReplica)
            select Task.Run(() => Worker(replica, key.Token, key.Victim))).ToList();
        await RacePhase.RunAsync(Phase, () => results.Any(r => r.Victim && r.Status == 200) && results.Count(r => !r.Victim) >= MinBystanders / 2);
        await revoke();
        Volatile.Write(ref revoked, 1);
        await RacePhase.RunAsync(Phase, () => results.Count(r => r.Victim && r.StartedAfterRevoke) >= MinVictimsAfterRevoke && results.Count(r => !r.Victim) >= MinBystanders);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        return results;
    }

    private sealed record Outcome(bool Victim, bool StartedAfterRevoke, int Status, string? Code, int Port);
}

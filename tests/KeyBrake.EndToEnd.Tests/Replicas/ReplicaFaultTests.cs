using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Replicas;

/// <summary>
/// SPEC §9 faults with real processes on real PostgreSQL: a replica killed with SIGKILL under load, and the database
/// itself stopped under load. Nothing is ever forwarded without its committed <c>proxy.request</c>; the survivors keep
/// serving; the chain verifies independently; a replica recovers by itself when the database returns.
/// </summary>
[Collection(ReplicaTestGroup.Name)]
public sealed class ReplicaFaultTests
{
    [Fact]
    public async Task KillDashNineOfOneReplica_UnderLoad_TheOthersKeepServing_AndEveryForwardedCallIsInTheVerifiedChain()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var replicas = await ReplicaSet.StartAsync(vendor, 3, ReplicaSpendTests.Quiet);
        var (_, token) = await replicas[0].CreateKeyAsync("replica-crash", "stripe", ["POST /v1/payment_intents"], cap: MaxCap);
        await using var load = Load.Start(replicas.Replicas, token, workersPerReplica: 4);

        await WaitUntilAsync(() => vendor.Received.Count >= 300, TimeSpan.FromSeconds(60), "300 calls reached the vendor");
        await replicas[1].KillAsync(); // SIGKILL: no shutdown, no flush
        var killedAt = load.Mark();
        await Task.Delay(TimeSpan.FromSeconds(1));
        await load.StopAsync();

        var survivors = load.Since(killedAt).Where(o => o.Port != replicas[1].ProxyPort).ToList();
        Assert.True(survivors.Count(o => o.Status == HttpStatusCode.OK) >= 20, $"the survivors served {survivors.Count(o => o.Status == HttpStatusCode.OK)} calls after the kill");
        Assert.All(survivors, o => Assert.Equal(HttpStatusCode.OK, o.Status));
        await AssertEveryForwardedCallRecordedAsync(replicas[0], vendor);
    }

    /// <summary>
    /// A spend figure the ledger cannot stand by (here: something outside KeyBrake swallows every new <c>spend_days</c>
    /// row, so no key's day can be opened). The key is still created (201 with its token: a new key has spent nothing),
    /// its priced call is refused as an unavailable store refuses it (503 <c>audit_unavailable</c>, SPEC's JSON, nothing
    /// forwarded), a read of the key is 503, and its revocation still answers 200 (SPEC §3: never fails because of the
    /// store) with the spend figures null; the key is refused from then on.
    /// </summary>
    [Fact]
    public async Task ADayThatCannotBeOpened_RefusesThePricedCall503_ButNeitherTheKeysCreationNorItsRevocation()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var replicas = await ReplicaSet.StartAsync(vendor, 1, ReplicaSpendTests.Quiet);
        await using (var connection = new Npgsql.NpgsqlConnection(replicas.ConnectionString))
        {
            await connection.OpenAsync();
            await using var swallow = new Npgsql.NpgsqlCommand("""
                CREATE FUNCTION swallow_days() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
                CREATE TRIGGER swallow_days BEFORE INSERT ON spend_days FOR EACH ROW EXECUTE FUNCTION swallow_days();
                """, connection);
            await swallow.ExecuteNonQueryAsync();
        }

        var (id, token) = await replicas[0].CreateKeyAsync("replica-no-day", "stripe", ["POST /v1/payment_intents"]);
        using var paid = await replicas[0].Proxy.SendAsync(ReplicaSpendTests.Payment(token));
        using var read = await replicas[0].Admin.GetAsync($"/v1/keys/{id}");
        using var revoked = await replicas[0].Admin.DeleteAsync($"/v1/keys/{id}?reason=no+day");
        using var after = await replicas[0].Proxy.SendAsync(ReplicaSpendTests.Payment(token));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, paid.StatusCode);
        Assert.Equal("audit_unavailable", await ErrorCodeAsync(paid));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, read.StatusCode);
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        using var key = JsonDocument.Parse(await revoked.Content.ReadAsStringAsync());
        Assert.Equal("revoked", key.RootElement.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, key.RootElement.GetProperty("spent_today_usd").ValueKind);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Empty(vendor.Received);

        static async Task<string?> ErrorCodeAsync(HttpResponseMessage response)
        {
            using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return error.RootElement.GetProperty("error").GetProperty("code").GetString();
        }
    }

    /// <summary>
    /// The largest cap (SPEC §2): every call moves one cent more than the one before (see <see cref="Load"/>), so N calls
    /// move about N²/200 USD, and a smaller cap ran out within a test once the PostgreSQL ledger got faster.
    /// </summary>
    private const int MaxCap = 1_000_000_000;

    [Fact]
    public async Task DatabaseStoppedUnderLoad_RepliesAre503_NothingIsForwardedUnrecorded_AndTheReplicasRecoverWithoutARestart()
    {
        await using var cluster = await PostgresCluster.StartAsync(); // our own server: the shared one stays up for the other tests
        await using var vendor = await FakeVendor.StartAsync();
        await using var replicas = await ReplicaSet.StartAsync(vendor, 2, ReplicaSpendTests.Quiet, cluster.ConnectionString);
        var (keyId, token) = await replicas[0].CreateKeyAsync("replica-outage", "stripe", ["POST /v1/payment_intents"], cap: MaxCap);
        await using var load = Load.Start(replicas.Replicas, token, workersPerReplica: 3);
        await WaitUntilAsync(() => vendor.Received.Count >= 100, TimeSpan.FromSeconds(60), "100 calls reached the vendor");

        await cluster.DownAsync();
        var downAt = load.Mark();
        await Task.Delay(TimeSpan.FromSeconds(3));
        var ready = await Task.WhenAll(replicas.Replicas.Select(r => r.Admin.GetAsync("/readyz")));
        var duringOutage = load.Since(downAt).ToList();
        await cluster.UpAsync();
        var upAt = load.Mark();
        await WaitUntilAsync(() => replicas.Replicas.All(r => load.Since(upAt).Any(o => o.Port == r.ProxyPort && o.Status == HttpStatusCode.OK)),
            TimeSpan.FromSeconds(30), "both replicas served a call after the database came back",
            () => string.Join("\n", replicas.Replicas.Select(r =>
                $"replica :{r.ProxyPort}, last answers {string.Join(" ", load.Since(upAt).Where(o => o.Port == r.ProxyPort).TakeLast(5).Select(o => $"{(int)o.Status}/{o.Code}"))}:\n{r.Output[^Math.Min(r.Output.Length, 4000)..]}")));
        await load.StopAsync();

        Assert.All(ready, r => Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode));
        var refused = duringOutage.Where(o => o.Status != HttpStatusCode.OK).ToList();
        Assert.True(refused.Count >= 10, $"only {refused.Count} calls were refused during the outage");
        Assert.All(refused, o => Assert.Equal((HttpStatusCode.ServiceUnavailable, "audit_unavailable"), (o.Status, o.Code)));
        foreach (var replica in replicas.Replicas)
        {
            using var readyAgain = await replica.Admin.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.OK, readyAgain.StatusCode);
        }
        await AssertEveryForwardedCallRecordedAsync(replicas[1], vendor);
        await AssertTheLedgerCountsEveryForwardedCallAsync(replicas[1], vendor, keyId);
    }

    /// <summary>
    /// The server was stopped without a shutdown (its unflushed WAL lost): the ledger may have lost a settlement or a
    /// reservation whose call was never forwarded, but never the reservation of a call that reached the vendor (its
    /// commit is flushed with the call's <c>proxy.request</c>), so spent + reserved covers every forwarded call's cost.
    /// </summary>
    private static async Task AssertTheLedgerCountsEveryForwardedCallAsync(KeyBrakeProcess replica, FakeVendor vendor, string keyId)
    {
        var received = AmountsReceived(vendor).ToHashSet();
        var forwardedCost = IndependentAudit.VerifyExport(await replica.Admin.GetStringAsync("/v1/audit/export?format=ndjson"))
            .Where(e => (string)e["type"]! == "proxy.request" && received.Contains((long)e["details"]!["amount_minor"]!))
            .Sum(e => (long)e["cost_usd_micros"]!);
        var key = await replica.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{keyId}");
        var counted = (long)((key.GetProperty("spent_today_usd").GetDecimal() + key.GetProperty("reserved_usd").GetDecimal()) * 1_000_000m);
        Assert.True(counted >= forwardedCost, $"the ledger counts {counted} µUSD after the outage, the forwarded calls cost {forwardedCost}");
    }

    /// <summary>Each call moves a different number of cents, so the vendor's record and the chain can be matched.</summary>
    private static async Task AssertEveryForwardedCallRecordedAsync(KeyBrakeProcess replica, FakeVendor vendor)
    {
        var received = AmountsReceived(vendor);
        var verify = await replica.Admin.GetFromJsonAsync<JsonElement>("/v1/audit/verify");
        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
        var recorded = IndependentAudit.VerifyExport(await replica.Admin.GetStringAsync("/v1/audit/export?format=ndjson"))
            .Where(e => (string)e["type"]! == "proxy.request")
            .Select(e => (long)e["details"]!["amount_minor"]!)
            .ToHashSet();
        var unrecorded = received.Where(amount => !recorded.Contains(amount)).ToList();
        Assert.True(unrecorded.Count == 0, $"forwarded without a proxy.request entry: {string.Join(", ", unrecorded.Take(20))}");
    }

    /// <summary>The amount of each call the vendor received (every call of <see cref="Load"/> moves a different one).</summary>
    private static List<long> AmountsReceived(FakeVendor vendor) =>
        vendor.Received.Select(r => long.Parse(r.Body.Split('&')[0]["amount=".Length..], CultureInfo.InvariantCulture)).ToList();

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what, Func<string>? diagnosis = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < timeout, $"not within {timeout}: {what}{(diagnosis is null ? "" : "\n" + diagnosis())}");
            await Task.Delay(20);
        }
    }

    /// <summary>Workers sending priced calls round-robin to replicas until stopped; every outcome kept in order.</summary>
    private sealed class Load : IAsyncDisposable
    {
        private static int s_amount;
        private readonly ConcurrentQueue<Outcome> _outcomes = new();
        private readonly CancellationTokenSource _stop = new();
        private List<Task> _workers = [];
        private long _order;

        public static Load Start(IReadOnlyList<KeyBrakeProcess> replicas, string token, int workersPerReplica)
        {
            var load = new Load();
            load._workers = (from replica in replicas from _ in Enumerable.Range(0, workersPerReplica) select Task.Run(() => load.WorkAsync(replica, token))).ToList();
            return load;
        }

        /// <summary>A point in the run: outcomes of calls started after it are <see cref="Since"/> it.</summary>
        public long Mark() => Interlocked.Increment(ref _order);

        public IEnumerable<Outcome> Since(long mark) => _outcomes.Where(o => o.StartedAt > mark);

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_workers);
        }

        private async Task WorkAsync(KeyBrakeProcess replica, string token)
        {
            while (!_stop.IsCancellationRequested)
            {
                var startedAt = Interlocked.Increment(ref _order);
                try
                {
                    using var response = await replica.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
                        new StringContent($"amount={Interlocked.Increment(ref s_amount)}&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded")), _stop.Token);
                    var body = await response.Content.ReadAsStringAsync(_stop.Token);
                    string? code = null;
                    if (!response.IsSuccessStatusCode)
                    {
                        using var json = JsonDocument.Parse(body);
                        code = json.RootElement.GetProperty("error").GetProperty("code").GetString();
                    }
                    _outcomes.Enqueue(new Outcome(startedAt, replica.ProxyPort, response.StatusCode, code));
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                    if (!_stop.IsCancellationRequested)
                    {
                        await Task.Delay(20); // a killed replica: its workers only spin
                    }
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested)
            {
                await StopAsync();
            }
            _stop.Dispose();
        }
    }

    private sealed record Outcome(long StartedAt, int Port, HttpStatusCode Status, string? Code);
}

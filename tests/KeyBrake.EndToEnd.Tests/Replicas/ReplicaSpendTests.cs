using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Replicas;

/// <summary>
/// SPEC §9 on three real KeyBrake processes sharing one PostgreSQL database: a key made on one works on the others at
/// once, and concurrent calls spread over the replicas never overshoot a daily cap, also with a revocation mid-burst.
/// </summary>
[Collection(ReplicaTestGroup.Name)]
public sealed class ReplicaSpendTests
{
    [Fact]
    public async Task ThreeReplicas_StartingTogetherOnAnEmptyDatabase_AKeyCreatedOnOneWorksOnTheOthersAtOnce()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var replicas = await ReplicaSet.StartAsync(vendor, 3);

        for (var i = 0; i < 3; i++)
        {
            var (_, token) = await replicas[i].CreateKeyAsync($"replica-made-{i}", "stripe", ["GET /v1/customers/*"]);
            foreach (var other in replicas.Replicas.Where(r => r != replicas[i]))
            {
                using var response = await other.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        Assert.Equal(6, vendor.Received.Count);
        foreach (var replica in replicas.Replicas)
        {
            var verify = await replica.Admin.GetFromJsonAsync<JsonElement>("/v1/audit/verify");
            Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
            Assert.Equal(1 + 3 + 6 * 2, verify.GetProperty("entries").GetInt64()); // principal.created, 3 × key.created, 6 × request + response
        }
        // The bootstrap principal is created once, by whichever replica got there first; the others only update it.
        var types = IndependentAudit.VerifyExport(await replicas[2].Admin.GetStringAsync("/v1/audit/export?format=ndjson")).Select(e => (string)e["type"]!).ToList();
        Assert.Single(types, t => t == "principal.created");
    }

    [Fact]
    public async Task Cap_200ConcurrentFiveDollarIntentsRoundRobinOverThreeReplicas_ExactlyTwentyReachTheVendor()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var replicas = await ReplicaSet.StartAsync(vendor, 3, Quiet);
        for (var round = 0; round < 20; round++) // it must hold 20 times in a row
        {
            vendor.Clear();
            var (id, token) = await replicas[round % 3].CreateKeyAsync($"replica-race-{round}", "stripe", ["POST /v1/payment_intents"], cap: 100);
            using var start = new SemaphoreSlim(0);
            var calls = Enumerable.Range(0, 200).Select(async i =>
            {
                await start.WaitAsync();
                return await PayAsync(replicas[i % 3], token);
            }).ToList();
            start.Release(200);
            var statuses = await Task.WhenAll(calls);

            var seen = string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{(int)g.Key}×{g.Count()}"));
            Assert.True(vendor.Received.Count == 20, $"round {round}: {vendor.Received.Count} reached the vendor ({seen})");
            Assert.True(statuses.Count(s => s == HttpStatusCode.OK) == 20 && statuses.Count(s => s == HttpStatusCode.PaymentRequired) == 180, $"round {round}: {seen}");
            foreach (var replica in replicas.Replicas)
            {
                await AssertCountedThenSettledAsync(replica, id, 100m);
            }
        }
    }

    [Fact]
    public async Task ACallRefusedAfterItsReservation_SecretUnavailable_GivesItBackWithItsDeniedEntry()
    {
        // On PostgreSQL the reservation is made with the call's proxy.request; refused after that (no vendor secret),
        // the call's proxy.denied carries the release: nothing stays reserved, nothing reached the vendor.
        await using var vendor = await FakeVendor.StartAsync();
        await using var replicas = await ReplicaSet.StartAsync(vendor, 1, new(Quiet) { ["KeyBrake__Secrets__Local__stripe-api-key"] = null });
        var (id, token) = await replicas[0].CreateKeyAsync("replica-no-secret", "stripe", ["POST /v1/payment_intents"], cap: 100);

        using var response = await replicas[0].Proxy.SendAsync(Payment(token));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("secret_unavailable", (await ErrorJson.ReadAsync(response)).GetProperty("code").GetString());
        Assert.Empty(vendor.Received);
        var key = await replicas[0].Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");
        Assert.Equal((0m, 0m), (key.GetProperty("spent_today_usd").GetDecimal(), key.GetProperty("reserved_usd").GetDecimal()));
        var entries = IndependentAudit.VerifyExport(await replicas[0].Admin.GetStringAsync("/v1/audit/export?format=ndjson"));
        Assert.Equal(["proxy.request", "proxy.denied"], entries.Where(e => (string?)e["key_id"] == id && ((string)e["type"]!).StartsWith("proxy.", StringComparison.Ordinal)).Select(e => (string)e["type"]!));
    }

    [Fact]
    public async Task Cap_WithARevocationOnOneReplicaMidBurst_NeverOvershoots_AndNothingStartedAfterTheRevokeGetsThrough()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var replicas = await ReplicaSet.StartAsync(vendor, 3, Quiet);
        for (var round = 0; round < 5; round++)
        {
            vendor.Clear();
            var (id, token) = await replicas[0].CreateKeyAsync($"replica-race-revoke-{round}", "stripe", ["POST /v1/payment_intents"], cap: 100);
            var before = Enumerable.Range(0, 100).Select(i => PayAsync(replicas[i % 3], token)).ToList(); // in flight during the revoke
            await RevokeAsync(replicas[round % 3], admin => admin.DeleteAsync($"/v1/keys/{id}?reason=mid-burst"));
            var after = Enumerable.Range(0, 100).Select(i => PayAsync(replicas[i % 3], token)).ToList();
            var statuses = await Task.WhenAll(before.Concat(after));

            var forwarded = vendor.Received.Count;
            Assert.InRange(forwarded, 0, 20);
            Assert.Equal(forwarded, statuses.Count(s => s == HttpStatusCode.OK));
            Assert.All(statuses.Skip(100), s => Assert.Equal(HttpStatusCode.Unauthorized, s)); // started after the revoke returned
            // Exact at once: a reservation whose request was withdrawn for the revocation was given back in its batch.
            await AssertCountedThenSettledAsync(replicas[2], id, 5m * forwarded);
            await AssertNoRequestAfterRevocationAsync(replicas[1], id);
        }
    }

    /// <summary>
    /// The cap's count (spent + reserved) is exact as soon as the calls are answered, on every replica. A call's
    /// settlement (reserved → spent) is committed with its proxy.response entry, a moment after the agent has its answer,
    /// on the replica that served it: a read on another replica may still see it as reserved, never for long.
    /// </summary>
    private static async Task AssertCountedThenSettledAsync(KeyBrakeProcess replica, string keyId, decimal spentUsd)
    {
        var until = TimeProvider.System.GetUtcNow().AddSeconds(5);
        while (true)
        {
            var key = await replica.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{keyId}");
            var (spent, reserved) = (key.GetProperty("spent_today_usd").GetDecimal(), key.GetProperty("reserved_usd").GetDecimal());
            Assert.Equal(spentUsd, spent + reserved);
            if (reserved == 0m)
            {
                return;
            }
            Assert.True(TimeProvider.System.GetUtcNow() < until, $"${reserved} of {keyId} still reserved after 5 s");
            await Task.Delay(20);
        }
    }

    /// <summary>SPEC §7 "Revocation is provable from the chain", read from an export by the test itself.</summary>
    internal static async Task AssertNoRequestAfterRevocationAsync(KeyBrakeProcess replica, string keyId)
    {
        var verify = await replica.Admin.GetFromJsonAsync<JsonElement>("/v1/audit/verify");
        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
        var entries = IndependentAudit.VerifyExport(await replica.Admin.GetStringAsync("/v1/audit/export?format=ndjson"))
            .Where(e => (string?)e["key_id"] == keyId).ToList();
        var revokedAt = entries.FirstOrDefault(e => (string)e["type"]! == "key.revoked")?["seq"]?.GetValue<long>();
        Assert.NotNull(revokedAt);
        Assert.DoesNotContain(entries, e => (string)e["type"]! == "proxy.request" && (long)e["seq"]! > revokedAt);
    }

    /// <summary>
    /// Sends a revocation until it answers 200. SPEC §3: 503 <c>revocation_pending</c> is retryable and repeating the
    /// call is safe; on replicas the 200 comes once the key's <c>key.revoked</c> is in the chain, which on a loaded
    /// machine can take longer than the first call waits.
    /// </summary>
    internal static async Task RevokeAsync(KeyBrakeProcess replica, Func<HttpClient, Task<HttpResponseMessage>> send)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await send(replica.Admin);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable && body.Contains("revocation_pending", StringComparison.Ordinal) && attempt < 30,
                $"revocation answered {(int)response.StatusCode}: {body}");
        }
    }

    internal static readonly Dictionary<string, string?> Quiet = new() { ["Logging__LogLevel__Default"] = "Warning" };

    internal static async Task<HttpStatusCode> PayAsync(KeyBrakeProcess replica, string token)
    {
        using var response = await replica.Proxy.SendAsync(Payment(token));
        return response.StatusCode;
    }

    /// <summary>A $5 payment intent, priced against the key's cap.</summary>
    internal static HttpRequestMessage Payment(string token) => KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
        new StringContent("amount=500&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded"));
}

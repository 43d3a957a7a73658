using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Keys;

/// <summary>
/// SPEC §3 and §7 under a race: every request that starts after the revocation returned is refused and reaches no
/// vendor, and the chain proves it: no proxy.request of the key is sealed after its key.revoked.
/// </summary>
public sealed class RevocationRaceTests : HostedTest
{
    [Fact]
    public async Task Delete_WithManyCallsInFlight_NothingStartedAfterReachesTheVendor_AndTheChainHasNoRequestAfterKeyRevoked()
    {
        var (victimId, victim) = await Host.CreateKeyAsync("run-race-victim", "stripe", ["GET /v1/customers/*"]);
        var (_, bystander) = await Host.CreateKeyAsync("run-race-bystander", "stripe", ["GET /v1/customers/*"]);
        Vendor.Delay = TimeSpan.FromMilliseconds(15); // keeps many calls in flight across the revocation
        var results = new ConcurrentBag<(bool Victim, bool StartedAfter, int Status, string? Code)>();
        var returned = 0;
        using var stop = new CancellationTokenSource();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = Host.Proxy.BaseAddress };

        async Task Worker(string token, bool isVictim)
        {
            while (!stop.IsCancellationRequested)
            {
                var startedAfter = Volatile.Read(ref returned) == 1;
                using var response = await client.SendAsync(KeyBrakeHost.ProxyRequest(
                    HttpMethod.Get, isVictim ? "/stripe/v1/customers/cus_victim" : "/stripe/v1/customers/cus_bystander", token));
                var body = await response.Content.ReadAsStringAsync();
                var code = response.IsSuccessStatusCode ? null : JsonDocument.Parse(body).RootElement.GetProperty("code").GetString();
                results.Add((isVictim, startedAfter, (int)response.StatusCode, code));
            }
        }

        var workers = Enumerable.Range(0, 16).Select(i => Task.Run(() => Worker(i % 4 == 0 ? bystander : victim, i % 4 != 0))).ToList();
        await Task.Delay(500);
        (await Host.Admin.DeleteAsync($"/v1/keys/{victimId}?reason=race")).EnsureSuccessStatusCode();
        Volatile.Write(ref returned, 1);
        await Task.Delay(500);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        await Host.AuditFlushedAsync();

        var victims = results.Where(r => r.Victim).ToList();
        Assert.Contains(victims, r => !r.StartedAfter && r.Status == 200);
        Assert.Contains(victims, r => r.StartedAfter);
        Assert.All(victims.Where(r => r.StartedAfter), r => Assert.Equal((401, "key_revoked"), (r.Status, r.Code)));
        Assert.All(victims, r => Assert.True(r.Status is 200 or 401, r.ToString()));
        // Every forwarded victim call answered 200, and none of those started after the revocation returned.
        Assert.Equal(victims.Count(r => r.Status == 200), Vendor.Received.Count(r => r.Path == "/v1/customers/cus_victim"));
        Assert.All(results.Where(r => !r.Victim), r => Assert.Equal(200, r.Status));

        await AssertNoRequestAfterRevocationAsync(victimId);
    }

    [Fact]
    public async Task RequestAuthorizedBeforeTheRevocation_WhoseEntryWouldBeSealedAfterKeyRevoked_Is401_AndNeverReachesTheVendor()
    {
        var (id, token) = await Host.CreateKeyAsync("run-slow-body", "stripe", ["POST /v1/payment_intents"], cap: 100);
        const string body = "amount=500&currency=usd";

        // The agent sends its headers (key checked, allowlist matched), then holds its body: the entry that would
        // record the call can only be written once the body is priced, after the operator's revocation is sealed.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", Host.ProxyPort);
        await using var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /stripe/v1/payment_intents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n" +
            $"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"));
        await Task.Delay(500);
        (await Host.Admin.DeleteAsync($"/v1/keys/{id}?reason=mid-call")).EnsureSuccessStatusCode();
        await WaitForEntryAsync(id, "key.revoked");

        await stream.WriteAsync(Encoding.ASCII.GetBytes(body));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        await Host.AuditFlushedAsync();

        Assert.StartsWith("HTTP/1.1 401", response);
        Assert.Contains("\"code\":\"key_revoked\"", response);
        Assert.Empty(Vendor.Received);
        using var key = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/keys/{id}"));
        Assert.Equal(0, key.RootElement.GetProperty("spent_today_usd").GetDecimal());
        Assert.Equal(0, key.RootElement.GetProperty("reserved_usd").GetDecimal());
        await AssertNoRequestAfterRevocationAsync(id);
    }

    /// <summary>The key's entries in seq order: no proxy.request after its key.revoked; and the whole chain verifies.</summary>
    private async Task AssertNoRequestAfterRevocationAsync(string keyId)
    {
        var entries = new List<(long Seq, string Type)>();
        for (long? after = 0; after is not null;)
        {
            using var json = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/audit?key_id={keyId}&limit=1000&after_seq={after}"));
            entries.AddRange(json.RootElement.GetProperty("entries").EnumerateArray()
                .Select(e => (e.GetProperty("seq").GetInt64(), e.GetProperty("type").GetString()!)));
            after = json.RootElement.GetProperty("next_after_seq") is { ValueKind: JsonValueKind.Number } next ? next.GetInt64() : null;
        }
        var revokedAt = Assert.Single(entries, e => e.Type == "key.revoked").Seq;
        Assert.DoesNotContain(entries, e => e.Type == "proxy.request" && e.Seq > revokedAt);
        using var verify = JsonDocument.Parse(await Host.Admin.GetStringAsync("/v1/audit/verify"));
        Assert.True(verify.RootElement.GetProperty("ok").GetBoolean(), verify.RootElement.GetRawText());
    }

    private async Task WaitForEntryAsync(string keyId, string type)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            using var json = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/audit?key_id={keyId}&type={type}"));
            if (json.RootElement.GetProperty("entries").GetArrayLength() > 0)
            {
                return;
            }
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"no {type} for {keyId} after 30 s");
            await Task.Delay(50);
        }
    }
}

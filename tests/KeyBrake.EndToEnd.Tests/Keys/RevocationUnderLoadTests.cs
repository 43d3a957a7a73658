using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Keys;

/// <summary>
/// Revocation races the token cache: requests for two runs' keys hammer the proxy while one run is revoked. Every
/// request that starts after the revoke call has returned must be refused with key_revoked, and the other run
/// must never see a single failure.
/// </summary>
public sealed class RevocationUnderLoadTests : HostedTest
{
    private const int WorkersPerKey = 6;
    private const int MinVictimsAfterRevoke = 20;
    private const int MinBystanders = 40;
    private static readonly TimeSpan Phase = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task RevokeOneKey_UnderConcurrentTraffic_IsEffectiveForTheVeryNextRequest_AndLeavesTheOtherRunWorking()
    {
        var (victimId, victim) = await Host.CreateKeyAsync("run-447-agent", "stripe", ["GET /v1/customers/*"]);
        var (_, bystander) = await Host.CreateKeyAsync("run-448-agent", "stripe", ["GET /v1/customers/*"]);

        var results = await RaceAsync([victim], [bystander], async () =>
            (await Host.Admin.DeleteAsync($"/v1/keys/{victimId}?reason=race")).EnsureSuccessStatusCode());

        AssertRevocationHeld(results);
    }

    [Fact]
    public async Task RevokeByLabelPrefix_UnderConcurrentTraffic_StopsTheWholeRunAtOnce()
    {
        var (_, first) = await Host.CreateKeyAsync("batch-2026-06-03-a", "stripe", ["GET /v1/customers/*"]);
        var (_, second) = await Host.CreateKeyAsync("batch-2026-06-03-b", "stripe", ["GET /v1/customers/*"]);
        var (_, bystander) = await Host.CreateKeyAsync("batch-2026-06-04-a", "stripe", ["GET /v1/customers/*"]);

        var results = await RaceAsync([first, second], [bystander], async () =>
        {
            using var response = await Host.Admin.PostAsJsonAsync("/v1/keys/revoke", new { label_prefix = "batch-2026-06-03", reason = "kill switch" });
            response.EnsureSuccessStatusCode();
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(2, json.RootElement.GetProperty("revoked").GetArrayLength());
        });

        AssertRevocationHeld(results);
    }

    private static void AssertRevocationHeld(IReadOnlyCollection<Outcome> results)
    {
        var victims = results.Where(r => r.Victim).ToList();
        var bystanders = results.Where(r => !r.Victim).ToList();
        var afterRevoke = victims.Where(r => r.StartedAfterRevoke).ToList();

        // The race really happened: the victim was served before, and tried many times after.
        Assert.Contains(victims, r => !r.StartedAfterRevoke && r.Status == 200);
        Assert.True(afterRevoke.Count >= MinVictimsAfterRevoke, $"only {afterRevoke.Count} victim requests after the revoke");
        Assert.All(afterRevoke, r => Assert.Equal((401, "key_revoked"), (r.Status, r.Code)));
        Assert.True(bystanders.Count >= MinBystanders, $"only {bystanders.Count} bystander requests");
        Assert.All(bystanders, r => Assert.Equal(200, r.Status));
    }

    private async Task<IReadOnlyCollection<Outcome>> RaceAsync(string[] victims, string[] bystanders, Func<Task> revoke)
    {
        var results = new ConcurrentBag<Outcome>();
        var revoked = 0;
        using var stop = new CancellationTokenSource();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = Host.Proxy.BaseAddress };

        async Task Worker(string token, bool victim)
        {
            while (!stop.IsCancellationRequested)
            {
                var startedAfter = Volatile.Read(ref revoked) == 1;
                using var request = new HttpRequestMessage(HttpMethod.Get, "/stripe/v1/customers/cus_race");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                using var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                string? code = null;
                if (!response.IsSuccessStatusCode)
                {
                    using var json = JsonDocument.Parse(body);
                    code = json.RootElement.GetProperty("error").GetProperty("code").GetString();
                }
                results.Add(new Outcome(victim, startedAfter, (int)response.StatusCode, code));
            }
        }

        var workers = victims.SelectMany(t => Enumerable.Range(0, WorkersPerKey).Select(_ => Task.Run(() => Worker(t, victim: true))))
            .Concat(bystanders.SelectMany(t => Enumerable.Range(0, WorkersPerKey).Select(_ => Task.Run(() => Worker(t, victim: false)))))
            .ToList();
        await RacePhase.RunAsync(Phase, () => results.Any(r => r.Victim && r.Status == 200) && results.Count(r => !r.Victim) >= MinBystanders / 2);
        await revoke();
        Volatile.Write(ref revoked, 1);
        await RacePhase.RunAsync(Phase, () => results.Count(r => r.Victim && r.StartedAfterRevoke) >= MinVictimsAfterRevoke && results.Count(r => !r.Victim) >= MinBystanders);
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        return results;
    }

    private sealed record Outcome(bool Victim, bool StartedAfterRevoke, int Status, string? Code);
}

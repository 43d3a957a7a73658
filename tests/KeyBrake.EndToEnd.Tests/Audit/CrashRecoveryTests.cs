using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Audit;

/// <summary>
/// kill -9 of the real host (a child process) in the middle of concurrent priced traffic. After a restart the chain
/// verifies, every request the upstream received has its committed proxy.request entry, and the key's spend counts
/// every recorded reservation (those cut off before their response count as in doubt, never vanish).
/// </summary>
public sealed class CrashRecoveryTests
{
    [Fact]
    public async Task KillDashNine_UnderLoad_ChainVerifies_EveryRequestTheVendorReceivedWasRecorded_AndSpendSurvives()
    {
        await using var vendor = await FakeVendor.StartAsync();
        var data = Directory.CreateTempSubdirectory("keybrake-crash-").FullName;
        await using var child = await KeyBrakeProcess.StartAsync(vendor, new()
        {
            ["KeyBrake__Audit__CheckpointEvery"] = "100",
            ["Logging__LogLevel__Default"] = "Warning",
        }, data);
        var (keyId, token) = await child.CreateKeyAsync("crash-run", "stripe", ["POST /v1/payment_intents"], cap: 100_000);

        using var load = new CancellationTokenSource();
        var proxy = child.Proxy;
        var next = 0;
        var workers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!load.IsCancellationRequested)
            {
                try
                {
                    // Each call moves a different number of cents, so the vendor's record and the audit log can be matched.
                    using var response = await proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
                        new StringContent($"amount={Interlocked.Increment(ref next)}&currency=usd", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded")), load.Token);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                    // the host is gone
                }
            }
        })).ToList();
        var deadline = Stopwatch.StartNew();
        while (vendor.Received.Count < 300 && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10);
        }
        await child.KillAsync(); // SIGKILL: no shutdown, no flush
        await load.CancelAsync();
        await Task.WhenAll(workers);
        var received = vendor.Received.Select(r => long.Parse(r.Body.Split('&')[0]["amount=".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToList();

        await using var restarted = await KeyBrakeHost.StartAsync(vendor, dataDirectory: data);
        var verify = await restarted.Admin.GetFromJsonAsync<JsonElement>("/v1/audit/verify");
        var recorded = (await restarted.Admin.GetStringAsync("/v1/audit/export"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonNode.Parse(line)!)
            .Where(e => (string)e["type"]! == "proxy.request")
            .Select(e => (long)e["details"]!["amount_minor"]!)
            .ToHashSet();
        var key = await restarted.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{keyId}");
        using var after = await restarted.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
            new StringContent("amount=1&currency=usd", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded")));

        Assert.True(received.Count >= 300, $"only {received.Count} requests reached the vendor before the kill");
        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
        var unrecorded = received.Where(amount => !recorded.Contains(amount)).ToList();
        Assert.True(unrecorded.Count == 0, $"forwarded without a proxy.request entry: {string.Join(", ", unrecorded)}");
        // Every recorded reservation counts after the crash: answered ones settled, the others in doubt.
        Assert.Equal(recorded.Sum() / 100m, key.GetProperty("spent_today_usd").GetDecimal());
        Assert.Equal(System.Net.HttpStatusCode.OK, after.StatusCode); // the tail check passed: proxying resumes
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Faults;

/// <summary>
/// SIGTERM to the real KeyBrake process in the middle of a burst of priced calls, as an orchestrator redeploying it
/// would send: it stops accepting, lets the calls in flight finish and settle, flushes the audit writer and exits 0.
/// Afterwards every call the vendor received has both its entries (none left in doubt), every answer an agent got is in
/// the log, the chain verifies independently, and the key's spend is exactly what the vendor was asked to move.
/// </summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task SigtermMidBurst_DrainsSettlesAndFlushes_LosingNothing()
    {
        await using var vendor = await FakeVendor.StartAsync();
        vendor.Delay = TimeSpan.FromMilliseconds(150); // so that calls are in flight when the signal arrives
        var data = Directory.CreateTempSubdirectory("keybrake-sigterm-").FullName;
        var (id, token, answered) = (default(string), default(string), new ConcurrentBag<(string RequestId, long Amount)>());
        await using (var child = await KeyBrakeProcess.StartAsync(vendor, new() { ["KeyBrake__Audit__CheckpointEvery"] = "50" }, data))
        {
            (id, token) = await child.CreateKeyAsync("redeploy-run", "stripe", ["POST /v1/payment_intents"], cap: 1_000_000);
            using var stop = new CancellationTokenSource();
            var next = 0;
            var workers = Enumerable.Range(0, 24).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var amount = Interlocked.Increment(ref next);
                    try
                    {
                        using var response = await child.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
                            new StringContent($"amount={amount}&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded")));
                        if (response.StatusCode == HttpStatusCode.OK)
                        {
                            answered.Add((response.Headers.GetValues("X-KeyBrake-Request-Id").Single(), amount));
                        }
                    }
                    catch (HttpRequestException)
                    {
                        await Task.Delay(20); // refused: the process is stopping
                    }
                }
            })).ToList();
            var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
            while (vendor.Received.Count < 150)
            {
                Assert.False(child.HasExited, child.Output);
                Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"only {vendor.Received.Count} calls reached the vendor in 60 s");
                await Task.Delay(10);
            }

            await child.SignalAsync("TERM");
            var exitCode = await child.WaitForExitAsync(TimeSpan.FromSeconds(60));
            await stop.CancelAsync();
            await Task.WhenAll(workers);

            Assert.True(exitCode == 0, $"exit {exitCode}:\n{child.Output}");
            Assert.Contains("Application is shutting down", child.Output, StringComparison.Ordinal);
        }
        var received = vendor.Received.Select(r => long.Parse(r.Body.Split('&')[0]["amount=".Length..], CultureInfo.InvariantCulture)).ToList();

        await using var restarted = await KeyBrakeHost.StartAsync(vendor, dataDirectory: data);
        var entries = IndependentAudit.VerifyExport(await restarted.Admin.GetStringAsync("/v1/audit/export"));
        var calls = entries.Where(e => (string?)e["key_id"] == id && ((string)e["type"]!).StartsWith("proxy.", StringComparison.Ordinal))
            .GroupBy(e => (string)e["request_id"]!)
            .ToDictionary(g => g.Key, g => g.ToList());
        var key = await restarted.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");

        Assert.True(received.Count >= 150, $"only {received.Count} calls reached the vendor");
        // Every call that reached the vendor: a request entry and an executed response entry, none cut off.
        Assert.Equal(received.Count, calls.Count);
        Assert.All(calls.Values, pair =>
        {
            Assert.Equal(["proxy.request", "proxy.response"], pair.Select(e => (string)e["type"]!));
            Assert.Equal("executed", (string)pair[1]["outcome"]!);
        });
        Assert.Equal(received.Order(), calls.Values.Select(pair => (long)pair[0]["details"]!["amount_minor"]!).Order());
        // Every answer an agent got is in the log.
        Assert.All(answered, a => Assert.True(calls.ContainsKey(a.RequestId), $"{a.RequestId} answered but not recorded"));
        // Spend is exactly the money the vendor was asked to move; nothing stays reserved.
        Assert.Equal((received.Sum() / 100m, 0m), (key.GetProperty("spent_today_usd").GetDecimal(), key.GetProperty("reserved_usd").GetDecimal()));
    }
}

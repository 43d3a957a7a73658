using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Audit;

/// <summary>
/// kill -9 of the real host (a child process) in the middle of concurrent traffic. After a restart the chain
/// verifies, and every request the upstream received has its committed proxy.request entry.
/// </summary>
public sealed class CrashRecoveryTests
{
    [Fact]
    public async Task KillDashNine_UnderLoad_ChainVerifies_AndEveryRequestTheVendorReceivedWasRecorded()
    {
        await using var vendor = await FakeVendor.StartAsync();
        var data = Directory.CreateTempSubdirectory("keybrake-crash-").FullName;
        var (proxyPort, adminPort) = (FreePort.Next(), FreePort.Next());
        using var child = StartChild(vendor, data, proxyPort, adminPort);
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}") };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", KeyBrakeHost.AdminToken);
        await WaitUntilServingAsync(admin, child);
        using var created = await admin.PostAsJsonAsync("/v1/keys", new
        {
            label = "crash-run", vendor = "stripe", allowed_endpoints = new[] { "GET /v1/customers/*" }, daily_usd_cap = 10, expires_in = "1h",
        });
        var token = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;

        using var load = new CancellationTokenSource();
        using var proxy = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{proxyPort}") };
        var next = 0;
        var workers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (!load.IsCancellationRequested)
            {
                try
                {
                    using var response = await proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, $"/stripe/v1/customers/crash_{Interlocked.Increment(ref next)}", token), load.Token);
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
        child.Kill(); // SIGKILL: no shutdown, no flush
        await child.WaitForExitAsync();
        await load.CancelAsync();
        await Task.WhenAll(workers);
        var received = vendor.Received.Select(r => r.Path).ToList();

        await using var restarted = await KeyBrakeHost.StartAsync(vendor, dataDirectory: data);
        var verify = await restarted.Admin.GetFromJsonAsync<JsonElement>("/v1/audit/verify");
        var recorded = (await restarted.Admin.GetStringAsync("/v1/audit/export"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonNode.Parse(line)!)
            .Where(e => (string)e["type"]! == "proxy.request")
            .Select(e => (string)e["path"]!)
            .ToHashSet();
        using var after = await restarted.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/after_restart", token));

        Assert.True(received.Count >= 300, $"only {received.Count} requests reached the vendor before the kill");
        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
        var unrecorded = received.Where(path => !recorded.Contains(path)).ToList();
        Assert.True(unrecorded.Count == 0, $"forwarded without a proxy.request entry: {string.Join(", ", unrecorded)}");
        Assert.Equal(System.Net.HttpStatusCode.OK, after.StatusCode); // the tail check passed: proxying resumes
    }

    private static Process StartChild(FakeVendor vendor, string data, int proxyPort, int adminPort)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = data,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "KeyBrake.dll"));
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["Kestrel:Endpoints:Proxy:Url"] = $"http://127.0.0.1:{proxyPort}",
            ["Kestrel:Endpoints:Admin:Url"] = $"http://127.0.0.1:{adminPort}",
            ["KeyBrake:Storage:Sqlite:Path"] = Path.Combine(data, "data", "keybrake.db"),
            ["KeyBrake:Admin:BootstrapToken"] = KeyBrakeHost.AdminToken,
            ["KeyBrake:Vendors:stripe:Upstream"] = vendor.BaseUrl,
            ["KeyBrake:Secrets:Local:stripe-api-key"] = KeyBrakeHost.StripeSecret,
            ["KeyBrake:Audit:CheckpointEvery"] = "100",
            ["Logging:LogLevel:Default"] = "Warning",
        })
        {
            start.ArgumentList.Add($"--{key}={value}");
        }
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilServingAsync(HttpClient admin, Process child)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            Assert.False(child.HasExited, $"KeyBrake exited with {(child.HasExited ? child.ExitCode : 0)}");
            try
            {
                using var health = await admin.GetAsync("/healthz");
                if (health.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        Assert.Fail("KeyBrake did not start within 60 s");
    }
}

using System.Net;
using KeyBrake.Audit;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Faults;

/// <summary>
/// Key Vault misbehaving under a real KeyBrake process that reads it with DefaultAzureCredential (managed identity) and
/// SecretClient: throttling is retried after Retry-After; failures, hangs and outages are bridged from the cache for
/// MaxStale, then calls fail closed with 503 secret_unavailable and nothing reaches the vendor; the breaker opens
/// (the vault is no longer asked) and closes again once the vault is back.
/// </summary>
public sealed class KeyVaultFaultTests
{
    private static readonly string[] Allowed = ["GET /v1/customers/*"];

    [Fact]
    public async Task Throttled_429_WithRetryAfter_IsRetriedAfterThatLong_AndTheCallSucceeds()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var vault = await StartVaultAsync();
        await using var host = await StartHostAsync(vendor, vault, cacheTtl: "0");
        var (_, token) = await host.CreateKeyAsync("kv-429", "stripe", Allowed);
        vault.FailNext(1, 429, retryAfter: "1");
        var before = vault.Requests;

        using var response = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer sk_vault_v1", Assert.Single(vendor.Received).Headers["Authorization"]);
        Assert.Equal(2, vault.Requests - before); // the 429, then the read that succeeded
        var times = vault.RequestTimes.ToArray()[^2..];
        // The vault saw the retry about Retry-After after the 429 (timers may fire a few ms early; 10 % slack).
        Assert.True(times[1] - times[0] >= TimeSpan.FromSeconds(0.9), $"retried {times[1] - times[0]} after the 429:\n{host.Output}");
        Assert.Contains("Key Vault read failed (429 Throttled); retry 1 in 1000 ms", host.Output, StringComparison.Ordinal);
    }

    public enum Fault { ServerErrors, Hanging, Down }

    [Theory]
    [InlineData(Fault.ServerErrors)]
    [InlineData(Fault.Hanging)]
    [InlineData(Fault.Down)]
    public async Task FailingVault_ServesTheCachedSecretForMaxStale_ThenFailsClosed_AndTheBreakerOpensAndRecovers(Fault fault)
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var vault = await StartVaultAsync();
        await using var host = await StartHostAsync(vendor, vault, cacheTtl: "1s", maxStale: "15s", breakDuration: "3s");
        var (_, token) = await host.CreateKeyAsync("kv-fault", "stripe", Allowed);
        async Task<HttpResponseMessage> CallAsync() =>
            await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));

        using (var fresh = await CallAsync())
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }
        var cachedAt = TimeProvider.System.GetUtcNow();
        vault.SetSecret("stripe-api-key", "sk_vault_v2"); // rotated, but the vault will not be readable
        await BreakAsync(vault, fault);
        await DelayUntilAsync(cachedAt.AddSeconds(1.2)); // past the TTL

        // Within MaxStale: served from the cache, twice (each refresh fails: two attempts, so four failures open the breaker).
        for (var i = 0; i < 2; i++)
        {
            using var stale = await CallAsync();
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        }
        await host.WaitForOutputAsync("Key Vault circuit opened", TimeSpan.FromSeconds(10));
        await host.WaitForOutputAsync("serving the cached value", TimeSpan.FromSeconds(10));
        var asked = vault.Requests;
        using (var whileOpen = await CallAsync())
        {
            Assert.Equal(HttpStatusCode.OK, whileOpen.StatusCode);
        }
        Assert.Equal(asked, vault.Requests); // the breaker is open: the vault was not asked
        Assert.Equal(4, vendor.Received.Count);
        Assert.All(vendor.Received, r => Assert.Equal("Bearer sk_vault_v1", r.Headers["Authorization"]));

        // Past MaxStale: fail closed, nothing forwarded.
        await DelayUntilAsync(cachedAt.AddSeconds(1 + 15 + 0.5));
        using (var refused = await CallAsync())
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("secret_unavailable", (await ErrorJson.ReadAsync(refused)).GetProperty("code").GetString());
        }
        Assert.Equal(4, vendor.Received.Count);

        // The vault comes back: once the break is over, a trial read closes the breaker and the rotated secret is used.
        await HealAsync(vault, fault);
        await DelayUntilAsync(TimeProvider.System.GetUtcNow().AddSeconds(3.2));
        using (var recovered = await CallAsync())
        {
            Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
        }
        Assert.Equal("Bearer sk_vault_v2", vendor.Received[^1].Headers["Authorization"]);
        await host.WaitForOutputAsync("Key Vault circuit closed", TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("sk_vault_v", host.Output, StringComparison.Ordinal); // never a secret in the log
    }

    private static async Task BreakAsync(KeyVaultStandIn vault, Fault fault)
    {
        switch (fault)
        {
            case Fault.ServerErrors:
                vault.FailNext(1000, 500);
                break;
            case Fault.Hanging:
                vault.Hang = true;
                break;
            case Fault.Down:
                await vault.GoDownAsync();
                break;
        }
    }

    private static async Task HealAsync(KeyVaultStandIn vault, Fault fault)
    {
        switch (fault)
        {
            case Fault.ServerErrors:
                vault.ClearFailures();
                break;
            case Fault.Hanging:
                vault.Hang = false;
                break;
            case Fault.Down:
                await vault.StartListeningAsync();
                break;
        }
    }

    private static async Task<KeyVaultStandIn> StartVaultAsync()
    {
        var vault = await KeyVaultStandIn.StartAsync();
        vault.SetSecret("stripe-api-key", "sk_vault_v1");
        vault.SetSecret("audit-signing-key", SigningKeys.NewPrivateKeyPem());
        return vault;
    }

    private static async Task<KeyBrakeProcess> StartHostAsync(FakeVendor vendor, KeyVaultStandIn vault, string cacheTtl, string maxStale = "0", string breakDuration = "30s")
    {
        var directory = Directory.CreateTempSubdirectory("keybrake-kv-").FullName;
        var environment = vault.ChildProcessEnvironment(directory);
        environment["KeyBrake__Secrets__CacheTtl"] = cacheTtl;
        environment["KeyBrake__Secrets__MaxStale"] = maxStale;
        // Long enough for a cold start's first read (TLS, challenge, token) on a loaded machine; a hang costs two of them.
        environment["KeyBrake__Secrets__ReadTimeout"] = "2s";
        environment["KeyBrake__Secrets__ReadRetries"] = "1";
        environment["KeyBrake__Secrets__BreakDuration"] = breakDuration;
        return await KeyBrakeProcess.StartAsync(vendor, environment, directory);
    }

    private static async Task DelayUntilAsync(DateTimeOffset at)
    {
        var wait = at - TimeProvider.System.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
    }
}

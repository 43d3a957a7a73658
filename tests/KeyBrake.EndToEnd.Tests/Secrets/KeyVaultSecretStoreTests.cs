using KeyBrake.Audit;
using System.Net;
using KeyBrake.EndToEnd.Tests.Support;
using KeyBrake.Secrets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.EndToEnd.Tests.Secrets;

public sealed class KeyVaultSecretStoreTests : IAsyncLifetime
{
    private KeyVaultStandIn _vault = null!;

    public async Task InitializeAsync()
    {
        _vault = await KeyVaultStandIn.StartAsync();
        _vault.SetSecret("stripe-api-key", "sk_from_key_vault_v1");
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    [Fact]
    public async Task GetAsync_AnswersTheChallenge_ThenReadsTheSecretWithABearerToken()
    {
        var store = new AzureKeyVaultSecretStore(_vault.CreateClient());

        var value = await store.GetAsync("stripe-api-key", CancellationToken.None);

        Assert.Equal("sk_from_key_vault_v1", value);
        Assert.Equal(1, _vault.ChallengesSent);
        Assert.Equal(1, _vault.SecretReads);
        Assert.Contains("https://vault.azure.net/.default", KeyVaultStandIn.StaticCredential.Scopes);
    }

    [Fact]
    public async Task GetAsync_MissingSecretOrFailingVault_IsSecretUnavailable_WithoutValues()
    {
        var store = new AzureKeyVaultSecretStore(_vault.CreateClient());

        var missing = await Assert.ThrowsAsync<SecretUnavailableException>(() => store.GetAsync("nope", CancellationToken.None).AsTask());
        _vault.FailWith = 500;
        var failing = await Assert.ThrowsAsync<SecretUnavailableException>(() => store.GetAsync("stripe-api-key", CancellationToken.None).AsTask());

        Assert.Contains("404", missing.Message, StringComparison.Ordinal);
        Assert.Contains("500", failing.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk_from_key_vault", missing.Message + failing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cache_ServesWithinTtl_AndPicksUpARotatedVersionAfterIt()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new CachingSecretStore(new AzureKeyVaultSecretStore(_vault.CreateClient()), time, TimeSpan.FromMinutes(5));

        Assert.Equal("sk_from_key_vault_v1", await store.GetAsync("stripe-api-key", CancellationToken.None));
        _vault.SetSecret("stripe-api-key", "sk_from_key_vault_v2");
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal("sk_from_key_vault_v1", await store.GetAsync("stripe-api-key", CancellationToken.None));
        Assert.Equal(1, _vault.SecretReads);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("sk_from_key_vault_v2", await store.GetAsync("stripe-api-key", CancellationToken.None));
        Assert.Equal(2, _vault.SecretReads);
    }

    [Fact]
    public async Task Host_WithAzureKeyVaultProvider_InjectsTheVaultSecret_AndFailsClosedWhenTheVaultFails()
    {
        await using var vendor = await FakeVendor.StartAsync();
        var signingKey = SigningKeys.NewPrivateKeyPem();
        _vault.SetSecret("audit-signing-key", signingKey); // the checkpoint key comes from the same vault
        await using var host = await KeyBrakeHost.StartAsync(vendor,
            new()
            {
                ["KeyBrake:Secrets:Provider"] = "AzureKeyVault",
                ["KeyBrake:Secrets:KeyVaultUri"] = _vault.VaultUri.ToString(),
                ["KeyBrake:Secrets:CacheTtl"] = "0",
            },
            services: s => s.AddSingleton(_vault.CreateClient()));
        var (_, token) = await host.CreateKeyAsync("kv-run", "stripe", ["GET /v1/customers/*"]);

        using var served = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
        _vault.FailWith = 503;
        using var refused = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("Bearer sk_from_key_vault_v1", Assert.Single(vendor.Received).Headers["Authorization"]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("secret_unavailable", (await ErrorJson.ReadAsync(refused)).GetProperty("code").GetString());
        Assert.Single(vendor.Received);
        using var expected = SigningKeys.Load(signingKey);
        Assert.Equal(SigningKeys.PublicKeyPem(expected), await host.Admin.GetStringAsync("/v1/audit/public-key"));
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;
using KeyBrake.Keys;
using Microsoft.Extensions.DependencyInjection;

namespace KeyBrake.EndToEnd.Tests.Proxy;

/// <summary>
/// SPEC §4 step 10: what the vendor learns from the agent's headers. Nothing about the agent's network (Forwarded,
/// X-Forwarded-*, X-Real-IP, Via are dropped and KeyBrake adds none), and no connected account beyond the key's
/// <c>stripe_accounts</c> (Stripe-Account would let a key act for any account the platform is connected to).
/// </summary>
public sealed class VendorHeaderTests : HostedTest
{
    private static readonly string[] ClientHeaders =
        ["Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix", "X-Forwarded-Anything", "X-Real-IP", "Via"];

    [Fact]
    public async Task ClientNetworkHeaders_NeverReachTheVendor_AndKeyBrakeAddsNone()
    {
        var (_, token) = await Host.CreateKeyAsync("headers-run", "stripe", ["GET /v1/customers/*"]);
        using var request = KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token);
        request.Headers.TryAddWithoutValidation("Forwarded", "for=10.0.0.7;proto=https;host=internal.example");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "10.0.0.7");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "internal.example");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Prefix", "/admin");
        request.Headers.TryAddWithoutValidation("x-forwarded-anything", "1");
        request.Headers.TryAddWithoutValidation("X-Real-IP", "10.0.0.7");
        request.Headers.TryAddWithoutValidation("Via", "1.1 agent-sidecar");
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "run-1");

        using var response = await Host.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(Vendor.Received);
        Assert.DoesNotContain(received.Headers.Keys, name => ClientHeaders.Contains(name, StringComparer.OrdinalIgnoreCase)
            || name.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("run-1", received.Headers["Idempotency-Key"]); // the rest still goes through
    }

    [Theory]
    [InlineData("acct_1ABCDEF")]
    [InlineData("")]
    public async Task StripeAccount_KeyWithoutStripeAccounts_Is403_AndNeverReachesVendor(string account)
    {
        var (id, token) = await Host.CreateKeyAsync("stripe-account-none", "stripe", ["POST /v1/customers"]);

        var (status, body) = await RawHttp.SendAsync(Host.ProxyPort, "POST", "/stripe/v1/customers",
            [$"Authorization: Bearer {token}", $"Stripe-Account: {account}", "Content-Type: application/x-www-form-urlencoded"], "email=a%40example.com");

        Assert.Equal(403, status);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("stripe_account_not_allowed", json.RootElement.GetProperty("code").GetString());
        Assert.Empty(Vendor.Received);
        await Host.AuditFlushedAsync();
        var denied = (await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={id}&type=proxy.denied")).GetProperty("entries").EnumerateArray().Single();
        Assert.Equal("deny:stripe_account_not_allowed", denied.GetProperty("decision").GetString());
    }

    [Fact]
    public async Task StripeAccount_NotTheAllowlistFirst_AnUnlistedEndpointIsStillEndpointNotAllowed()
    {
        var (_, token) = await Host.CreateKeyAsync("stripe-account-order", "stripe", ["POST /v1/customers"]);

        var (status, body) = await RawHttp.SendAsync(Host.ProxyPort, "POST", "/stripe/v1/charges",
            [$"Authorization: Bearer {token}", "Stripe-Account: acct_1ABCDEF"], "");

        Assert.Equal(403, status);
        Assert.Contains("endpoint_not_allowed", body, StringComparison.Ordinal);
    }

    /// <summary>
    /// Keys with a <c>stripe_accounts</c> list: until the admin API takes the field, the store hands this host's keys
    /// labelled <c>accounts-*</c> the list <c>acct_allowed</c> (FOLLOW-UP: create the key through the API instead).
    /// </summary>
    [Fact]
    public async Task StripeAccount_ListedAccount_PassesUnchanged_OthersAre403()
    {
        await using var host = await KeyBrakeHost.StartAsync(Vendor, services: services => services.AddSingleton<IKeyStore>(sp =>
            new AccountsKeyStore(ActivatorUtilities.CreateInstance<SqliteKeyStore>(sp), "accounts-", ["acct_allowed"])));
        var (_, token) = await host.CreateKeyAsync("accounts-run", "stripe", ["GET /v1/customers/*"]);

        var (allowed, _) = await RawHttp.SendAsync(host.ProxyPort, "GET", "/stripe/v1/customers/cus_1", [$"Authorization: Bearer {token}", "Stripe-Account: acct_allowed"]);
        var (other, body) = await RawHttp.SendAsync(host.ProxyPort, "GET", "/stripe/v1/customers/cus_1", [$"Authorization: Bearer {token}", "Stripe-Account: acct_other"]);
        var (two, _) = await RawHttp.SendAsync(host.ProxyPort, "GET", "/stripe/v1/customers/cus_1",
            [$"Authorization: Bearer {token}", "Stripe-Account: acct_allowed", "Stripe-Account: acct_other"]);

        Assert.Equal((200, 403, 403), (allowed, other, two));
        Assert.Contains("stripe_account_not_allowed", body, StringComparison.Ordinal);
        var received = Assert.Single(Vendor.Received);
        Assert.Equal("acct_allowed", received.Headers["Stripe-Account"]);
    }

    private sealed class AccountsKeyStore(IKeyStore inner, string labelPrefix, string[] accounts) : IKeyStore
    {
        public async Task<VaultKey?> FindByTokenHashAsync(string tokenHash, CancellationToken cancellationToken)
        {
            var key = await inner.FindByTokenHashAsync(tokenHash, cancellationToken);
            return key is not null && key.Label.StartsWith(labelPrefix, StringComparison.Ordinal) ? key with { StripeAccounts = accounts } : key;
        }

        public Task InsertAsync(VaultKey key, CancellationToken cancellationToken) => inner.InsertAsync(key, cancellationToken);

        public Task<VaultKey?> FindByIdAsync(string id, CancellationToken cancellationToken) => inner.FindByIdAsync(id, cancellationToken);

        public Task<IReadOnlyList<VaultKey>> ListAsync(KeyQuery query, DateTimeOffset now, CancellationToken cancellationToken) => inner.ListAsync(query, now, cancellationToken);

        public Task<bool> UpdatePolicyAsync(VaultKey updated, CancellationToken cancellationToken) => inner.UpdatePolicyAsync(updated, cancellationToken);

        public Task<IReadOnlyList<VaultKey>> RevokeAsync(KeyRevocation revocation, CancellationToken cancellationToken) => inner.RevokeAsync(revocation, cancellationToken);
    }
}

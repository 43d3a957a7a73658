using System.Net;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Storage;

/// <summary>
/// SPEC §2 <c>KeyBrake:Storage:MinFreeBytes</c>: below it, where the store writes, proxied calls are refused before
/// anything is forwarded or reserved, while admin changes and revocations keep working. The rule is exercised with a
/// threshold no disk meets and with a small one, so these tests do not depend on the machine's free space.
/// </summary>
public sealed class MinFreeBytesTests
{
    [Fact]
    public async Task BelowMinFreeBytes_ProxiedCall503AuditUnavailable_NothingForwardedOrReserved_AdminAndRevocationWork()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var host = await KeyBrakeHost.StartAsync(vendor, new() { ["KeyBrake:Storage:MinFreeBytes"] = long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture) });

        var (id, token) = await host.CreateKeyAsync("disk-full-run", "stripe", ["POST /v1/payment_intents"], cap: 100);
        using var call = await host.Proxy.SendAsync(PaymentIntent(token));
        using var ready = await host.Admin.GetAsync("/readyz");
        var afterCall = await KeyAsync(host, id);
        using var revoke = await host.Admin.DeleteAsync($"/v1/keys/{id}?reason=disk+full");
        await host.AuditFlushedAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, call.StatusCode);
        var error = await ErrorJson.ReadAsync(call);
        Assert.Equal(("audit_unavailable", true), (error.GetProperty("code").GetString(), error.GetProperty("retryable").GetBoolean()));
        Assert.Empty(vendor.Received);
        Assert.Equal((0m, 0m), (afterCall.GetProperty("spent_today_usd").GetDecimal(), afterCall.GetProperty("reserved_usd").GetDecimal()));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("MinFreeBytes", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal("revoked", await host.KeyStatusAsync(id));
        var types = (await host.Admin.GetStringAsync($"/v1/audit/export?format=ndjson")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("type").GetString()).ToList();
        Assert.Equal(["key.created", "key.revoked"], types.Where(t => t != "principal.created")); // the refused call wrote nothing
    }

    [Fact]
    public async Task AboveMinFreeBytes_ProxiedCallsAreServed()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var host = await KeyBrakeHost.StartAsync(vendor, new() { ["KeyBrake:Storage:MinFreeBytes"] = "1048576" });

        var (id, token) = await host.CreateKeyAsync("disk-ok-run", "stripe", ["POST /v1/payment_intents"], cap: 100);
        using var call = await host.Proxy.SendAsync(PaymentIntent(token));
        using var ready = await host.Admin.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        Assert.Equal("amount=500&currency=usd", Assert.Single(vendor.Received).Body);
        Assert.Equal(5m, (await KeyAsync(host, id)).GetProperty("spent_today_usd").GetDecimal());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    private static HttpRequestMessage PaymentIntent(string token) => KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
        new StringContent("amount=500&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded"));

    private static async Task<JsonElement> KeyAsync(KeyBrakeHost host, string id)
    {
        using var key = JsonDocument.Parse(await host.Admin.GetStringAsync($"/v1/keys/{id}"));
        return key.RootElement.Clone();
    }
}

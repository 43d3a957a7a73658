using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Audit;

/// <summary>
/// SPEC §2 against §4, decided for §2: below <c>KeyBrake:Storage:MinFreeBytes</c> the room left is for admin changes and
/// revocations, so a known key's refused calls are counted and logged (at most once a second) but not chained — a key
/// holder cannot spend the reserve — while a revocation is still written.
/// </summary>
public sealed class LowDiskDenialsTests
{
    [Fact]
    public async Task BelowMinFreeBytes_KnownKeyRefusals_AddNoEntries_RevocationStillWritten()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var host = await KeyBrakeHost.StartAsync(vendor, new() { ["KeyBrake:Storage:MinFreeBytes"] = long.MaxValue.ToString(CultureInfo.InvariantCulture) });
        var (id, token) = await host.CreateKeyAsync("low-disk-run", "stripe", ["POST /v1/payment_intents"], cap: 0);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            using var refused = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/charges", token,
                new StringContent("amount=100&currency=usd&to=" + new string('5', 10_000), Encoding.UTF8, "application/x-www-form-urlencoded")));
            statuses.Add(refused.StatusCode);
        }
        using var revoke = await host.Admin.DeleteAsync($"/v1/keys/{id}?reason=disk+full");
        await host.AuditFlushedAsync();

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Forbidden, s));
        Assert.Empty(vendor.Received);
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        var types = (await host.Admin.GetStringAsync("/v1/audit/export?format=ndjson")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("type").GetString()).ToList();
        Assert.Equal(["key.created", "key.revoked"], types.Where(t => t != "principal.created"));
        var lines = host.Logs.Lines.Where(l => l.Contains("[5203]", StringComparison.Ordinal)).ToList();
        Assert.InRange(lines.Count, 1, 5); // counted, not a line a refusal
        Assert.Contains("MinFreeBytes", lines[0], StringComparison.Ordinal);
    }
}

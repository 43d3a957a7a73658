using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Proxy;

/// <summary>
/// SPEC §4: requests with no token or an unknown token, and 404 unknown_vendor, are never chained. The review filled
/// the disk this way: <c>Bearer junk</c> with a 7,000-character path wrote an 8.5 KB proxy.denied per request.
/// </summary>
public sealed class AnonymousTrafficTests : HostedTest
{
    private static readonly string Junk = "vk_" + new string('J', 43);
    private static readonly string LongPath = "/stripe/v1/customers/" + new string('a', 7000);

    /// <summary>Refusals at step 2 (before the token is looked at) and later, with no token or tokens no key has.</summary>
    private static readonly (string Method, string Target, string[] Headers, int Status)[] Kinds =
    [
        ("GET", LongPath, [$"Authorization: Bearer {Junk}"], 414),
        ("GET", LongPath, [], 414),
        ("GET", "/stripe/v1/customers/..;/charges", [$"Authorization: Bearer {Junk}"], 400),
        ("Post", "/stripe/v1/charges", [$"Authorization: Bearer {Junk}"], 400),
        ("GET", "/stripe/v1/customers/cus_1", [$"Authorization: Bearer {Junk}", "X-HTTP-Method-Override: POST"], 400),
        ("GET", "/stripe/v1/customers/cus_1", [$"Authorization: Bearer {Junk}", $"X-KeyBrake-Reason: {new string('r', 400)}"], 401),
        ("GET", "/stripe/v1/customers/cus_1", [$"Authorization: Basic {Convert.ToBase64String(Encoding.UTF8.GetBytes("junk:junk"))}"], 401),
        ("GET", "/stripe/v1/customers/cus_1", [], 401),
        ("GET", "/paypal/v1/" + new string('p', 7000), [$"Authorization: Bearer {Junk}"], 404),
        ("GET", "/nope", [], 404),
    ];

    [Fact]
    public async Task FiveHundredRequestsWithoutAKnownKey_LeaveTheChainAsItWas_AndAKnownKeysRefusalIsStillChained()
    {
        var (id, token) = await Host.CreateKeyAsync("anonymous-baseline", "stripe", ["GET /v1/customers/*"]);
        var before = await HeadSeqAsync();

        var statuses = new List<int>();
        for (var batch = 0; batch < 50; batch++)
        {
            statuses.AddRange(await Task.WhenAll(Kinds.Select(async k => (await RawHttp.SendAsync(Host.ProxyPort, k.Method, k.Target, k.Headers)).Status)));
        }

        Assert.Equal(500, statuses.Count);
        Assert.Equal(Enumerable.Range(0, 50).SelectMany(_ => Kinds.Select(k => k.Status)), statuses);
        Assert.Equal(before, await HeadSeqAsync());
        Assert.Empty(Vendor.Received);
        // Counted and logged, not a line a request: at most one a second per code (ASP.NET Core's own request lines
        // are captured here too; the shipped appsettings.json logs Microsoft.AspNetCore at Warning).
        var ours = Host.Logs.Lines.Where(l => l.Split(' ')[1].StartsWith("KeyBrake.", StringComparison.Ordinal)).ToList();
        Assert.InRange(ours.Count(l => l.Contains("[4201]", StringComparison.Ordinal)), 1, 60);
        Assert.DoesNotContain(ours, l => l.Contains(Junk, StringComparison.Ordinal) || l.Contains(new string('a', 100), StringComparison.Ordinal));
        Assert.InRange(ours.Count, 0, 100);

        var (known, _) = await RawHttp.SendAsync(Host.ProxyPort, "GET", LongPath, [$"Authorization: Bearer {token}"]);
        Assert.Equal(414, known);
        Assert.Equal(before + 1, await HeadSeqAsync());
        var denied = (await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={id}&type=proxy.denied")).GetProperty("entries").EnumerateArray().Single();
        Assert.Equal("deny:uri_too_long", denied.GetProperty("decision").GetString());
    }

    private async Task<long> HeadSeqAsync()
    {
        await Host.AuditFlushedAsync();
        var verify = await Host.Admin.GetFromJsonAsync<JsonElement>("/v1/audit/verify");
        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
        return verify.GetProperty("head").GetProperty("seq").GetInt64();
    }
}

using System.Diagnostics;
using System.Net;
using KeyBrake.EndToEnd.Tests.Audit;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Replicas;

/// <summary>SPEC §7 / §9: the live stream on any replica shows entries written by every replica within 1 s.</summary>
[Collection(ReplicaTestGroup.Name)]
public sealed class ReplicaStreamTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task StreamOnA_FollowsCallsMadeOnBAndC_EachWithinASecond()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var replicas = await ReplicaSet.StartAsync(vendor, 3, ReplicaSpendTests.Quiet);
        var (_, token) = await replicas[1].CreateKeyAsync("replica-sse", "stripe", ["GET /v1/customers/*"]);
        await using var stream = await SseReader.OpenAsync(replicas[0].Admin, "/v1/audit/stream?label=replica-sse");

        var lags = new List<TimeSpan>();
        for (var i = 0; i < 6; i++)
        {
            var replica = replicas[1 + i % 2];
            using (var response = await replica.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, $"/stripe/v1/customers/cus_{i}", token)))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode); // both entries are committed by now
            }
            var clock = Stopwatch.StartNew();
            var seen = await stream.ReadAsync(2, TimeSpan.FromSeconds(20));
            lags.Add(clock.Elapsed);
            Assert.Equal(["proxy.request", "proxy.response"], seen.Select(e => (string)e.Data["type"]!));
            Assert.All(seen, e => Assert.Equal($"/v1/customers/cus_{i}", (string)e.Data["path"]!));
        }

        Assert.True(lags.All(l => l <= Within), $"lags: {string.Join(", ", lags.Select(l => $"{l.TotalMilliseconds:0} ms"))}");
    }
}

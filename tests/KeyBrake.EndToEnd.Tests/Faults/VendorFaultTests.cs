using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Faults;

/// <summary>
/// A vendor that hangs, resets the connection, answers slowly or is not listening, behind the real KeyBrake process
/// with a per-vendor response time-out: the agent gets the right error, the money is settled as SPEC §5 says (kept
/// in doubt when the call may have executed, released as not_delivered when no connection could be made), and the
/// audit log has the request and its outcome for each.
/// </summary>
public sealed class VendorFaultTests
{
    public enum Fault { Hangs, ResetsTheConnection, AnswersSlowly, IsNotListening, NeverCompletesTheConnection }

    [Theory]
    [InlineData(Fault.Hangs, HttpStatusCode.GatewayTimeout, "upstream_timeout", "in_doubt")]
    [InlineData(Fault.ResetsTheConnection, HttpStatusCode.BadGateway, "upstream_unreachable", "in_doubt")]
    [InlineData(Fault.AnswersSlowly, HttpStatusCode.OK, null, "executed")]
    [InlineData(Fault.IsNotListening, HttpStatusCode.BadGateway, "upstream_unreachable", "not_delivered")]
    [InlineData(Fault.NeverCompletesTheConnection, HttpStatusCode.BadGateway, "upstream_unreachable", "not_delivered")]
    public async Task FaultyVendor_GetsTheRightError_SettlementAndAuditEntries(Fault fault, HttpStatusCode status, string? code, string outcome)
    {
        await using var vendor = await FakeVendor.StartAsync();
        using var blackHole = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var environment = new Dictionary<string, string?> { ["KeyBrake__Vendors__stripe__ResponseTimeout"] = "1s" };
        switch (fault)
        {
            case Fault.Hangs:
                vendor.Delay = TimeSpan.FromSeconds(30);
                break;
            case Fault.ResetsTheConnection:
                vendor.ResetConnections = true;
                break;
            case Fault.AnswersSlowly:
                // Well inside its response time-out: a first call on a cold child process under a loaded CI machine can
                // take a second by itself, which made a 400 ms delay against a 1 s time-out flaky.
                vendor.Delay = TimeSpan.FromMilliseconds(1500);
                environment["KeyBrake__Vendors__stripe__ResponseTimeout"] = "10s";
                break;
            case Fault.IsNotListening:
                environment["KeyBrake__Vendors__stripe__Upstream"] = $"http://127.0.0.1:{FreePort.Next()}";
                environment["KeyBrake__Vendors__stripe__ConnectTimeout"] = "2s";
                break;
            case Fault.NeverCompletesTheConnection:
                // A listener that never accepts, its queue already full: new connections hang until ConnectTimeout.
                blackHole.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                blackHole.Listen(0);
                var port = ((IPEndPoint)blackHole.LocalEndPoint!).Port;
                foreach (var filler in Enumerable.Range(0, 4).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)))
                {
                    _ = filler.ConnectAsync(IPAddress.Loopback, port); // kept open by the pending connect until the test ends
                }
                environment["KeyBrake__Vendors__stripe__Upstream"] = $"http://127.0.0.1:{port}";
                environment["KeyBrake__Vendors__stripe__ConnectTimeout"] = "1s";
                environment["KeyBrake__Vendors__stripe__ResponseTimeout"] = "10s"; // the connect time-out, not this, must end it
                break;
        }
        await using var host = await KeyBrakeProcess.StartAsync(vendor, environment);
        var (id, token) = await host.CreateKeyAsync("vendor-fault", "stripe", ["POST /v1/payment_intents"], cap: 100);

        using var response = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
            new StringContent("amount=700&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded")));

        Assert.Equal(status, response.StatusCode);
        if (code is not null)
        {
            var error = await ErrorJson.ReadAsync(response);
            Assert.Equal(code, error.GetProperty("code").GetString());
            // Retryable only when nothing was sent; after a reset or a time-out the call may have executed.
            Assert.Equal(outcome == "not_delivered", error.GetProperty("retryable").GetBoolean());
        }
        Assert.Equal(outcome == "not_delivered" ? 0 : 1, vendor.Received.Count); // never retried by KeyBrake
        var requestId = response.Headers.GetValues("X-KeyBrake-Request-Id").Single();
        var entries = await EntriesAsync(host, id, requestId);
        Assert.Equal(["proxy.request", "proxy.response"], entries.Select(e => e.GetProperty("type").GetString()));
        var settled = entries[1];
        // Executed or in doubt, the $7 counts against the cap; never sent (SPEC §5 not_delivered), it is released.
        var counted = outcome == "not_delivered" ? 0m : 7m;
        Assert.Equal((outcome, (long)status, (long)(counted * 1_000_000)),
            (settled.GetProperty("outcome").GetString(), settled.GetProperty("http_status").GetInt64(), settled.GetProperty("cost_usd_micros").GetInt64()));
        // Nothing stays merely reserved.
        var key = await host.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");
        Assert.Equal((counted, 0m), (key.GetProperty("spent_today_usd").GetDecimal(), key.GetProperty("reserved_usd").GetDecimal()));
        Assert.DoesNotContain(KeyBrakeHost.StripeSecret, host.Output, StringComparison.Ordinal);
    }

    /// <summary>The entries of one call, once its proxy.response (queued after the agent's answer) is committed.</summary>
    private static async Task<List<JsonElement>> EntriesAsync(KeyBrakeProcess host, string keyId, string requestId)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var page = await host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={keyId}");
            var entries = page.GetProperty("entries").EnumerateArray()
                .Where(e => e.GetProperty("request_id").GetString() == requestId)
                .ToList();
            if (entries.Count == 2)
            {
                return entries;
            }
            await Task.Delay(100);
        }
        Assert.Fail($"the audit log has no complete pair of entries for {requestId}:\n{host.Output}");
        return [];
    }
}

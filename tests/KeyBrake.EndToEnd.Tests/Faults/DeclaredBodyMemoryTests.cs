using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Faults;

/// <summary>
/// SPEC §4: request bodies are read as they arrive, never by allocating a declared length up front. The review killed
/// a process with a 384 MiB heap (what the shipped Kubernetes 512Mi limit leaves) in 2 s with 700 connections that only
/// declared a 1 MiB body, using a key with a $0 cap. The real process, with that heap limit, must stay up and serve.
/// </summary>
public sealed class DeclaredBodyMemoryTests
{
    private const int Connections = 700;

    [Fact]
    public async Task SevenHundredConnectionsDeclaringOneMebibyte_UnderA384MiBHeap_LeaveTheProcessServing()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var host = await KeyBrakeProcess.StartAsync(vendor, new() { ["DOTNET_GCHeapHardLimit"] = "0x18000000" });
        var (id, token) = await host.CreateKeyAsync("declared-bodies", "stripe", ["POST /v1/charges", "GET /v1/customers/*"], cap: 0);
        var head = Encoding.ASCII.GetBytes($"POST /stripe/v1/charges HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\n\r\n");
        var open = new List<TcpClient>();
        try
        {
            for (var i = 0; i < Connections; i++)
            {
                var client = new TcpClient();
                open.Add(client);
                await client.ConnectAsync(IPAddress.Loopback, host.ProxyPort);
                await client.GetStream().WriteAsync(head); // the headers only: the body never comes
            }
            // The old code died within 2 s of this; Kestrel drops bodies this slow only after a 5 s grace period.
            var watchUntil = TimeProvider.System.GetUtcNow().AddSeconds(3);
            while (TimeProvider.System.GetUtcNow() < watchUntil)
            {
                Assert.False(host.HasExited, $"KeyBrake died holding {Connections} declared bodies:\n{host.Output}");
                await Task.Delay(100);
            }

            using var served = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }
        finally
        {
            foreach (var client in open)
            {
                client.Dispose();
            }
        }

        using var after = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_2", token));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.False(host.HasExited);
        Assert.Equal(["/v1/customers/cus_1", "/v1/customers/cus_2"], vendor.Received.Select(r => r.Path));
        var key = await host.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");
        Assert.Equal(0m, key.GetProperty("spent_today_usd").GetDecimal());
    }
}

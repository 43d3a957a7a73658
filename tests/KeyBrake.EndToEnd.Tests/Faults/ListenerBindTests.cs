using System.Net;
using System.Net.Sockets;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Faults;

/// <summary>SPEC §2: a listener that cannot bind stops the real process like a bad configuration: exit 2, every one listed, no stack trace.</summary>
public sealed class ListenerBindTests
{
    [Fact]
    public async Task ProxyAndAdminPortsTaken_Exit2_OneLineNamingEachAddress_NoStackTrace()
    {
        using var proxyTaken = new TcpListener(IPAddress.Loopback, 0);
        using var adminTaken = new TcpListener(IPAddress.Loopback, 0);
        proxyTaken.Start();
        adminTaken.Start();
        var (proxy, admin) = (((IPEndPoint)proxyTaken.LocalEndpoint).Port, ((IPEndPoint)adminTaken.LocalEndpoint).Port);
        await using var vendor = await FakeVendor.StartAsync();
        await using var host = await KeyBrakeProcess.StartAsync(vendor, new()
        {
            ["Kestrel__Endpoints__Proxy__Url"] = $"http://127.0.0.1:{proxy}",
            ["Kestrel__Endpoints__Admin__Url"] = $"http://127.0.0.1:{admin}",
        }, waitUntilHealthy: false);

        var exitCode = await host.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 2, $"exit code {exitCode}:\n{host.Output}");
        Assert.Contains("KeyBrake did not start: a listener cannot bind.", host.Output, StringComparison.Ordinal);
        Assert.Contains($"  - Kestrel:Endpoints:Proxy:Url: http://127.0.0.1:{proxy} cannot be bound: Address already in use", host.Output, StringComparison.Ordinal);
        Assert.Contains($"  - Kestrel:Endpoints:Admin:Url: http://127.0.0.1:{admin} cannot be bound: Address already in use", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal); // reasons, not a stack trace
        Assert.False(Directory.Exists(Path.Combine(host.DataDirectory, "data")), "nothing is written before the listeners are known to bind");
    }
}

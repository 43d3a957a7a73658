using System.Net;
using System.Net.Sockets;

namespace KeyBrake.Tests;

public sealed class ListenerBindingTests
{
    [Fact]
    public void ThrowIfAnyUnbindable_ListsEveryEndpointWhosePortIsTaken_AsKestrelWouldBindIt()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var free = new TcpListener(IPAddress.Loopback, 0);
        free.Start();
        var freePort = ((IPEndPoint)free.LocalEndpoint).Port;
        free.Stop();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Proxy:Url"] = $"http://127.0.0.1:{port}",
            ["Kestrel:Endpoints:Admin:Url"] = $"http://localhost:{port}",
            ["Kestrel:Endpoints:Vendor-stripe:Url"] = $"http://*:{port}",
            ["Kestrel:Endpoints:Other:Url"] = $"http://127.0.0.1:{freePort}",
        }).Build();

        var failures = Assert.Throws<ListenerBindException>(() => ListenerBinding.ThrowIfAnyUnbindable(configuration)).Failures;

        Assert.Equal(["Admin", "Proxy", "Vendor-stripe"], failures.Select(f => f.Split(':')[2]).Order(StringComparer.Ordinal));
        Assert.All(failures, f => Assert.Contains($":{port} cannot be bound: ", f, StringComparison.Ordinal));
    }

    [Fact]
    public void ThrowIfAnyUnbindable_FreePorts_AndAPortJustReleased_Bind()
    {
        int port;
        using (var released = new TcpListener(IPAddress.Loopback, 0))
        {
            released.Start();
            port = ((IPEndPoint)released.LocalEndpoint).Port;
            released.Stop();
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Proxy:Url"] = $"http://127.0.0.1:{port}",
        }).Build();

        ListenerBinding.ThrowIfAnyUnbindable(configuration);
    }
}

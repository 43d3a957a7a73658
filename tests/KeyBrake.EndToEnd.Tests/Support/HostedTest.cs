using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>A test class with a fresh fake vendor and a KeyBrake host pointed at it, per test.</summary>
public abstract class HostedTest(FakeTimeProvider? time = null) : IAsyncLifetime
{
    internal FakeVendor Vendor { get; private set; } = null!;

    internal KeyBrakeHost Host { get; private set; } = null!;

    protected FakeTimeProvider? Time => time;

    public async Task InitializeAsync()
    {
        Vendor = await FakeVendor.StartAsync();
        Host = await KeyBrakeHost.StartAsync(Vendor, time: time);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Vendor.DisposeAsync();
    }
}

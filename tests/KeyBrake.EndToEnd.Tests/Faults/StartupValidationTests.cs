using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Faults;

/// <summary>
/// A bad configuration stops the real process at start, non-zero, with every error listed at once; the container
/// health check (<c>KeyBrake.dll healthcheck</c>) tells a serving host from an absent one.
/// </summary>
public sealed class StartupValidationTests
{
    [Fact]
    public async Task HealthCheckMode_ExitsZeroForAServingHost_AndOneWhenNothingAnswers()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var host = await KeyBrakeProcess.StartAsync(vendor);

        var serving = await RunHealthCheckAsync($"http://0.0.0.0:{host.AdminPort}"); // a wildcard listener is asked on loopback
        var absent = await RunHealthCheckAsync($"http://127.0.0.1:{FreePort.Next()}");

        Assert.Equal((0, $"http://127.0.0.1:{host.AdminPort}/healthz: 200"), (serving.ExitCode, serving.Output.Trim()));
        Assert.Equal(1, absent.ExitCode);
    }

    private static async Task<(int ExitCode, string Output)> RunHealthCheckAsync(string adminUrl)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = Path.GetTempPath() };
        start.ArgumentList.Add(BuiltOutput.Dll("KeyBrake", "KeyBrake.dll"));
        start.ArgumentList.Add("healthcheck");
        start.Environment["Kestrel__Endpoints__Admin__Url"] = adminUrl;
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, output);
    }

    [Fact]
    public async Task BadConfiguration_ExitsNonZero_ListingEveryError()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var host = await KeyBrakeProcess.StartAsync(vendor, new()
        {
            ["KeyBrake__Vendors__paypal__Upstream"] = "https://api.paypal.com",
            ["KeyBrake__Vendors__paypal__SecretName"] = "paypal",
            ["KeyBrake__Vendors__paypal__Auth"] = "Bearer",
            ["KeyBrake__Vendors__stripe__Upstream"] = "ftp://api.stripe.com",
            ["KeyBrake__Vendors__resend__SecretName"] = "",
            ["Kestrel__Endpoints__Admin__Url"] = $"http://0.0.0.0:{FreePort.Next()}",
            ["KeyBrake__Secrets__MaxStale"] = "a while",
        }, waitUntilHealthy: false);

        var exitCode = await host.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        Assert.Contains("KeyBrake did not start: the configuration is invalid.", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal); // a list of errors, not a stack trace
        foreach (var expected in new[]
        {
            "KeyBrake:Vendors:paypal: unknown vendor",
            "KeyBrake:Vendors:stripe:Upstream: 'ftp://api.stripe.com'",
            "KeyBrake:Vendors:resend:SecretName is required",
            "Kestrel:Endpoints:Admin:Url: 'http://0.0.0.0:",
            "KeyBrake:Secrets:MaxStale: 'a while'",
        })
        {
            Assert.Contains(expected, host.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task BadDurationsInTwoSections_AndABadNumber_ExitTwo_ListingEachWithTheKeyAndText()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var host = await KeyBrakeProcess.StartAsync(vendor, new()
        {
            ["KeyBrake__Proxy__DrainTimeout"] = "half a minute", // also read before validation, for the host's shutdown time-out
            ["KeyBrake__Secrets__MaxStale"] = "15 min",
            ["KeyBrake__Audit__CommitTimeout"] = "5m", // a duration, out of range
            ["KeyBrake__Proxy__MaxBodyBytes"] = "1 MiB", // not a number: reported too, not thrown out of the binder
        }, waitUntilHealthy: false);

        var exitCode = await host.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        Assert.Contains("KeyBrake did not start: the configuration is invalid.", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal);
        foreach (var expected in new[]
        {
            "  - KeyBrake:Proxy:DrainTimeout: 'half a minute' must be a positive duration of at most 10m.",
            "  - KeyBrake:Secrets:MaxStale: '15 min' is not a duration.",
            "  - KeyBrake:Audit:CommitTimeout: '5m' must be a positive duration of at most 1m.",
            "  - KeyBrake:Proxy:MaxBodyBytes: '1 MiB' must be a whole number.",
        })
        {
            Assert.Contains(expected, host.Output, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// SPEC §2: a listener URL that does not parse or a port that is not fixed is a configuration error like any other,
    /// listed with the rest — not an exception thrown while the host is built (exit 134 with a stack trace before).
    /// </summary>
    [Fact]
    public async Task BadListenerUrlAndPort_AndABadDuration_ExitTwo_ListedTogether_WithoutAStackTrace()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var host = await KeyBrakeProcess.StartAsync(vendor, new()
        {
            ["Kestrel__Endpoints__Admin__Url"] = "nonsense",
            ["Kestrel__Endpoints__Proxy__Url"] = "http://127.0.0.1:0",
            ["KeyBrake__Secrets__MaxStale"] = "soon",
        }, waitUntilHealthy: false);

        var exitCode = await host.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal);
        Assert.Contains("  - Kestrel:Endpoints:Admin:Url: 'nonsense' is not a listener URL such as http://127.0.0.1:8081.", host.Output, StringComparison.Ordinal);
        Assert.Contains("  - Kestrel:Endpoints:Proxy:Url: port 0 must be a fixed port (1-65535) that no other listener uses.", host.Output, StringComparison.Ordinal);
        Assert.Contains("  - KeyBrake:Secrets:MaxStale: 'soon' is not a duration.", host.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// SPEC §9: the provider is a word KeyBrake knows, and Postgres needs its connection string. The value of a
    /// connection string is never echoed (it may hold a password).
    /// </summary>
    [Theory]
    [InlineData("sqlite", null, "  - KeyBrake:Storage:Provider: 'sqlite' must be Sqlite or Postgres.")]
    [InlineData("Postgres", null, "  - KeyBrake:Storage:Postgres:ConnectionString: required when KeyBrake:Storage:Provider is Postgres (e.g. Host=db;Database=keybrake;Username=keybrake).")]
    [InlineData("Postgres", "Host=db;Password=hunter2;Username", "  - KeyBrake:Storage:Postgres:ConnectionString: is not a connection string (key=value pairs separated by ';').")]
    public async Task StorageProvider_UnknownOrIncomplete_ExitsTwo_SayingWhy(string provider, string? connectionString, string expected)
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var host = await KeyBrakeProcess.StartAsync(vendor, new()
        {
            ["KeyBrake__Storage__Provider"] = provider,
            ["KeyBrake__Storage__Postgres__ConnectionString"] = connectionString,
        }, waitUntilHealthy: false);

        var exitCode = await host.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        Assert.Contains(expected, host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", host.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", host.Output, StringComparison.Ordinal);
    }
}

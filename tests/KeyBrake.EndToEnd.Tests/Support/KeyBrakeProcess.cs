using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>
/// The real KeyBrake executable (src/KeyBrake, built alongside) as a child process: configuration only through
/// environment variables, as a container would get it; its own data directory; stopped with SIGTERM like an orchestrator
/// would. For fault tests, where the host must be a process that can be signalled and whose stdout can be read.
/// </summary>
internal sealed class KeyBrakeProcess : IAsyncDisposable
{
    private static readonly string HostDll = BuiltOutput.Dll("KeyBrake", "KeyBrake.dll");
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private bool _ownsData;

    private KeyBrakeProcess(Process process, string dataDirectory, int proxyPort, int adminPort)
    {
        _process = process;
        DataDirectory = dataDirectory;
        ProxyPort = proxyPort;
        AdminPort = adminPort;
        Admin = new HttpClient { BaseAddress = new Uri(AdminUrl), Timeout = TimeSpan.FromSeconds(60) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", KeyBrakeHost.AdminToken);
        Proxy = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{proxyPort}"), Timeout = TimeSpan.FromSeconds(60) };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string DataDirectory { get; }
    public string DatabasePath => Path.Combine(DataDirectory, "data", "keybrake.db");
    public int ProxyPort { get; }
    public int AdminPort { get; }
    public string AdminUrl => $"http://127.0.0.1:{AdminPort}";
    public HttpClient Admin { get; }
    public HttpClient Proxy { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the process printed (its console log), for assertions and failure messages.</summary>
    public string Output { get { lock (_output) { return _output.ToString(); } } }

    /// <summary>
    /// Waits until the process has printed <paramref name="text"/>: its log lines reach us through a console logger's
    /// queue and a pipe, a moment after what they describe (asserting on <see cref="Output"/> at once is a race).
    /// </summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var until = TimeProvider.System.GetUtcNow() + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Xunit.Assert.True(TimeProvider.System.GetUtcNow() < until, $"KeyBrake did not print '{text}' within {timeout}:\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>Starts the host with the fake vendor as every upstream and Local secrets, then <paramref name="environment"/> on top.</summary>
    /// <param name="dataDirectory">Kept when given (a restart reads it); a temporary one is made and deleted otherwise.</param>
    /// <param name="waitUntilHealthy">False for a process expected to refuse to start (see <see cref="WaitForExitAsync"/>).</param>
    public static async Task<KeyBrakeProcess> StartAsync(FakeVendor vendor, Dictionary<string, string?>? environment = null, string? dataDirectory = null,
        bool waitUntilHealthy = true)
    {
        var ownsData = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("keybrake-proc-").FullName;
        var (proxy, admin) = (FreePort.Next(), FreePort.Next());
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dataDirectory, // content root: no appsettings.json here, data/ created here
        };
        start.ArgumentList.Add(HostDll);
        // The in-process hosts' settings, as environment variables (a container gets its configuration this way).
        var env = KeyBrakeHost.BaseSettings(vendor, proxy, admin).ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value);
        env["DOTNET_ENVIRONMENT"] = "Testing";
        env["Logging__Console__FormatterName"] = "simple";
        env["Logging__Console__FormatterOptions__SingleLine"] = "true";
        foreach (var (name, value) in environment ?? [])
        {
            env[name] = value;
        }
        foreach (var (name, value) in env)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
        var host = new KeyBrakeProcess(Process.Start(start)!, dataDirectory, proxy, admin) { _ownsData = ownsData };
        if (waitUntilHealthy)
        {
            await host.WaitUntilHealthyAsync();
        }
        return host;
    }

    /// <summary>Sends a signal as an orchestrator would (kill -TERM).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    /// <summary>SIGKILL: no shutdown, no flush.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"KeyBrake did not exit within {timeout}:\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>Issues a key through the admin API and returns (id, token).</summary>
    public Task<(string Id, string Token)> CreateKeyAsync(string label, string vendor, string[] allowed, decimal cap = 100, string ttl = "1h") =>
        KeyBrakeHost.CreateKeyAsync(Admin, label, vendor, allowed, cap, ttl);

    private async Task WaitUntilHealthyAsync()
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync();
                Assert.Fail($"KeyBrake exited with {_process.ExitCode} while starting:\n{Output}");
            }
            try
            {
                using var health = await Admin.GetAsync("/healthz");
                if (health.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or System.Net.Sockets.SocketException or IOException)
            {
                // Not listening yet. A connection reset right after it was made can surface as a bare SocketException
                // ("Transport endpoint is not connected", from the connect path reading the remote end point): seen in CI.
            }
            await Task.Delay(100);
        }
        Assert.Fail($"KeyBrake did not become healthy within 60 s:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        Proxy.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        if (!_ownsData)
        {
            return;
        }
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

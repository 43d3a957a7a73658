using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>
/// The real <c>keybrake</c> command (src/KeyBrake.Cli, built alongside) as a child process pointed at a test host's
/// admin listener: run to completion, or started and read line by line (tail, run) and signalled like a terminal would.
/// </summary>
internal sealed class CliProcess : IAsyncDisposable
{
    private static readonly string CliDll = BuiltOutput.Dll("KeyBrake.Cli", "keybrake.dll");
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Task _pumps;

    private CliProcess(Process process)
    {
        _process = process;
        _pumps = Task.WhenAll(PumpAsync(process.StandardOutput, _stdout, _lines.Writer), PumpAsync(process.StandardError, _stderr, null));
    }

    public int Pid => _process.Id;

    public string Stdout { get { lock (_stdout) { return _stdout.ToString(); } } }

    public string Stderr { get { lock (_stderr) { return _stderr.ToString(); } } }

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static CliProcess Start(string adminUrl, IEnumerable<string> args, Dictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        start.ArgumentList.Add(CliDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["KEYBRAKE_ADMIN_URL"] = adminUrl;
        start.Environment["KEYBRAKE_ADMIN_TOKEN"] = KeyBrakeHost.AdminToken;
        start.Environment["NO_COLOR"] = "1";
        foreach (var (name, value) in environment ?? [])
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
        return new CliProcess(Process.Start(start)!);
    }

    public static async Task<Result> RunAsync(string adminUrl, params string[] args) => await RunAsync(adminUrl, args, null);

    public static async Task<Result> RunAsync(string adminUrl, string[] args, Dictionary<string, string?>? environment, string? workingDirectory = null)
    {
        await using var cli = Start(adminUrl, args, environment, workingDirectory);
        return await cli.WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async Task<Result> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            await _pumps.WaitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"keybrake did not exit within {timeout}:\n{Stdout}\n{Stderr}");
        }
        return new Result(_process.ExitCode, Stdout, Stderr);
    }

    /// <summary>The next stdout line, or a failure naming what was printed so far.</summary>
    public async Task<string> NextLineAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            return await _lines.Reader.ReadAsync(cancel.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            Assert.Fail($"keybrake printed no further line:\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            throw;
        }
    }

    /// <summary>Sends a signal as a terminal or an orchestrator would (kill -INT / -TERM).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    private static async Task PumpAsync(StreamReader reader, StringBuilder all, ChannelWriter<string>? lines)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (all)
            {
                all.AppendLine(line);
            }
            lines?.TryWrite(line);
        }
        lines?.TryComplete();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

using System.Diagnostics;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>
/// A command of the server binary itself (<c>KeyBrake.dll storage copy …</c>, SPEC §8) run to completion as a child
/// process, configured only through environment variables as a container job would be.
/// </summary>
internal static class ServerCommand
{
    private static readonly string HostDll = BuiltOutput.Dll("KeyBrake", "KeyBrake.dll");

    public static async Task<CliProcess.Result> RunAsync(IEnumerable<string> args, Dictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(), // no appsettings.json there: the environment is the whole configuration
        };
        start.ArgumentList.Add(HostDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["DOTNET_ENVIRONMENT"] = "Testing";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"KeyBrake {string.Join(' ', args)} did not exit within 120 s:\n{await stdout}\n{await stderr}");
        }
        return new CliProcess.Result(process.ExitCode, await stdout, await stderr);
    }
}

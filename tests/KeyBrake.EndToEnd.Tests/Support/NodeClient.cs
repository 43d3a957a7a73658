using System.Diagnostics;
using System.Text.Json;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>Runs one of the Node 20 scripts in tests/KeyBrake.EndToEnd.Tests/node (real npm vendor clients).</summary>
internal static class NodeClient
{
    public static string Directory { get; } = FindNodeDirectory();

    /// <param name="failureIsJson">The script reports its own failure as its last JSON line (exit code ignored).</param>
    public static async Task<JsonElement> RunAsync(string script, Dictionary<string, string> environment, TimeSpan? timeout = null, bool failureIsJson = false)
    {
        Assert.True(System.IO.Directory.Exists(Path.Combine(Directory, "node_modules")),
            $"npm packages are missing: run `npm ci` in {Directory} (.ci/run does)");
        var start = new ProcessStartInfo("node", script)
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(cancel.Token);
        var stderr = process.StandardError.ReadToEndAsync(cancel.Token);
        await process.WaitForExitAsync(cancel.Token);
        var output = (await stdout).Trim();
        Assert.True((process.ExitCode == 0 || (failureIsJson && output.Split('\n')[^1].StartsWith('{'))) && output.Length > 0,
            $"node {script} exited {process.ExitCode}: {output}\n{await stderr}");
        using var json = JsonDocument.Parse(output.Split('\n')[^1]);
        return json.RootElement.Clone();
    }

    private static string FindNodeDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KeyBrake.sln")))
            {
                return Path.Combine(dir.FullName, "tests", "KeyBrake.EndToEnd.Tests", "node");
            }
        }
        throw new InvalidOperationException("KeyBrake.sln not found above " + AppContext.BaseDirectory);
    }
}

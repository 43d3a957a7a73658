using System.Diagnostics;
using System.Text.RegularExpressions;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>
/// A PostgreSQL cluster of a test's own (tests/postgres/cluster.sh), for tests that stop and start the server: the
/// shared test server must stay up for every other test.
/// </summary>
internal sealed partial class PostgresCluster : IAsyncDisposable
{
    private readonly string _directory;

    private PostgresCluster(string connectionString, string directory)
    {
        ConnectionString = connectionString;
        _directory = directory;
    }

    /// <summary>The server's superuser connection string.</summary>
    public string ConnectionString { get; }

    public static async Task<PostgresCluster> StartAsync()
    {
        var output = await RunAsync("start");
        return new PostgresCluster(Exported(output, "KEYBRAKE_TEST_POSTGRES"), Exported(output, "KEYBRAKE_TEST_POSTGRES_DIR"));
    }

    /// <summary>Stops the server at once (as a crash or a lost network would), keeping its data.</summary>
    public Task DownAsync() => RunAsync("down", _directory);

    public Task UpAsync() => RunAsync("up", _directory);

    public async ValueTask DisposeAsync() => await RunAsync("stop", _directory);

    private static string Exported(string output, string name) =>
        Regex.Match(output, $"export {name}='([^']*)'") is { Success: true } match
            ? match.Groups[1].Value
            : throw new InvalidOperationException($"cluster.sh did not export {name}:\n{output}");

    private static async Task<string> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"cluster.sh {string.Join(' ', arguments)} exited {process.ExitCode}:\n{await stderr}");
        return await stdout;
    }

    private static string Script
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "KeyBrake.sln")))
                {
                    return Path.Combine(dir.FullName, "tests", "postgres", "cluster.sh");
                }
            }
            throw new InvalidOperationException("KeyBrake.sln not found above " + AppContext.BaseDirectory);
        }
    }
}

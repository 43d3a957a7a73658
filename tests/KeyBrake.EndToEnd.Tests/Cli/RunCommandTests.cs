using System.Net;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Cli;

/// <summary>
/// <c>keybrake run … -- COMMAND</c>: the key exists while COMMAND runs and is revoked however COMMAND ends (normal
/// exit, non-zero exit, killed by a signal, keybrake itself told to stop); COMMAND's exit code is keybrake's.
/// </summary>
public sealed class RunCommandTests : HostedTest, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("keybrake-run-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>Writes its environment, waits for the test's go-ahead file, then exits with $CODE.</summary>
    private const string WaitThenExit = "env > \"$OUT/env.txt\"; while [ ! -f \"$OUT/go\" ]; do sleep 0.05; done; exit \"$CODE\"";

    private CliProcess Run(string label, string script, Dictionary<string, string?>? environment = null) =>
        CliProcess.Start(Host.AdminUrl,
            ["run", "--vendor", "stripe", "--label", label, "--allow", "GET /v1/customers/*", "--cap", "5", "--ttl", "1h",
             "--proxy-url", Host.ProxyUrl, "--", "sh", "-c", script],
            new(environment ?? []) { ["OUT"] = _work },
            _work);

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public async Task Run_KeyLivesWhileCommandRuns_RevokedAfterItExits_ExitCodePassedThrough(int code)
    {
        await using var run = Run($"agent-run-exit-{code}", WaitThenExit, new() { ["CODE"] = code.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var env = await ChildEnvironmentAsync();

        Assert.StartsWith("vk_", env["KEYBRAKE_TOKEN"]);
        Assert.Equal(env["KEYBRAKE_TOKEN"], env["STRIPE_API_KEY"]);
        Assert.Equal($"{Host.ProxyUrl}/stripe", env["KEYBRAKE_BASE_URL"]);
        Assert.False(env.ContainsKey("KEYBRAKE_ADMIN_TOKEN"), "the run must not inherit the operator's principal token");
        Assert.Equal("active", await Host.KeyStatusAsync(env["KEYBRAKE_KEY_ID"]));
        using (var call = await CallAsync(env, "/v1/customers/cus_1"))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        await File.WriteAllTextAsync(Path.Combine(_work, "go"), "");
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == code, result.ToString());
        await AssertRevokedAsync(env, $"exited with code {code}");
    }

    [Fact]
    public async Task Run_CommandKilledBySignal_Revoked_Exit137()
    {
        await using var run = Run("agent-run-killed", "env > \"$OUT/env.txt\"; kill -9 $$");
        var env = await ChildEnvironmentAsync();

        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 137, result.ToString());
        await AssertRevokedAsync(env, "exited with code 137");
    }

    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    [InlineData("HUP", 129)]
    public async Task Run_KeybrakeItselfSignalled_RelaysToCommand_Revoked(string signal, int expectedExit)
    {
        var script = $"trap 'echo {signal} > \"$OUT/got\"; exit {expectedExit}' {signal}; env > \"$OUT/env.txt\"; while true; do sleep 0.05; done";
        await using var run = Run($"agent-run-{signal.ToLowerInvariant()}", script);
        var env = await ChildEnvironmentAsync();
        Assert.Equal("active", await Host.KeyStatusAsync(env["KEYBRAKE_KEY_ID"]));

        await run.SignalAsync(signal); // to keybrake only, as an orchestrator stopping the run would
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == expectedExit, result.ToString());
        Assert.Equal(signal, (await File.ReadAllTextAsync(Path.Combine(_work, "got"))).Trim());
        await AssertRevokedAsync(env, $"exited with code {expectedExit}");
    }

    [Fact]
    public async Task Run_KeyRefused_CommandNeverStarts_Exit1()
    {
        var result = await CliProcess.RunAsync(Host.AdminUrl,
            ["run", "--vendor", "paypal", "--label", "x", "--allow", "GET /v1/a", "--cap", "5", "--", "sh", "-c", "touch \"$OUT/started\""],
            new() { ["OUT"] = _work });
        var missing = await CliProcess.RunAsync(Host.AdminUrl,
            ["run", "--vendor", "stripe", "--label", "agent-run-missing", "--allow", "GET /v1/a", "--cap", "5", "--", "/no/such/program"]);
        var noCommand = await CliProcess.RunAsync(Host.AdminUrl, ["run", "--vendor", "stripe", "--label", "x", "--allow", "GET /v1/a", "--cap", "5"]);

        Assert.True(result.ExitCode == 1, result.ToString());
        KeysCliTests.AssertOneLine(result.Stderr, "invalid_request");
        Assert.False(File.Exists(Path.Combine(_work, "started")));
        Assert.True(missing.ExitCode == 127, missing.ToString());
        Assert.Contains("could not start /no/such/program", missing.Stderr);
        Assert.Contains("revoked", missing.Stderr); // the key it had issued does not outlive the failed start
        using var keys = JsonDocument.Parse(await Host.Admin.GetStringAsync("/v1/keys?label_prefix=agent-run-missing"));
        Assert.Equal("revoked", Assert.Single(keys.RootElement.GetProperty("keys").EnumerateArray()).GetProperty("status").GetString());
        Assert.True(noCommand.ExitCode == 2, noCommand.ToString());
    }

    private async Task<Dictionary<string, string>> ChildEnvironmentAsync()
    {
        var path = Path.Combine(_work, "env.txt");
        for (var i = 0; i < 300 && !(File.Exists(path) && (await File.ReadAllTextAsync(path)).Contains("KEYBRAKE_LABEL=", StringComparison.Ordinal)); i++)
        {
            await Task.Delay(100);
        }
        Assert.True(File.Exists(path), "the command never started");
        return (await File.ReadAllLinesAsync(path))
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2)
            .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
    }

    private static async Task<HttpResponseMessage> CallAsync(Dictionary<string, string> env, string path)
    {
        using var client = new HttpClient();
        return await client.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, env["KEYBRAKE_BASE_URL"] + path, env["KEYBRAKE_TOKEN"]));
    }

    private async Task AssertRevokedAsync(Dictionary<string, string> env, string reason)
    {
        using var key = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/keys/{env["KEYBRAKE_KEY_ID"]}"));
        Assert.Equal("revoked", key.RootElement.GetProperty("status").GetString());
        Assert.Contains(reason, key.RootElement.GetProperty("revoke_reason").GetString());
        using var call = await CallAsync(env, "/v1/customers/cus_1");
        Assert.Equal(HttpStatusCode.Unauthorized, call.StatusCode);
        Assert.Equal("key_revoked", (await ErrorJson.ReadAsync(call)).GetProperty("code").GetString());
    }
}

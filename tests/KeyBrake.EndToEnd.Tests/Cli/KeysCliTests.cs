using System.Net;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Cli;

/// <summary><c>keybrake keys …</c> as a real process against a real host: the operator's path, and bad input.</summary>
public sealed class KeysCliTests : HostedTest
{
    private Task<CliProcess.Result> Keybrake(params string[] args) => CliProcess.RunAsync(Host.AdminUrl, args);

    [Fact]
    public async Task CreateListShowRevoke_OperatorPath_KeyStopsOnNextCall()
    {
        var created = await Keybrake("keys", "create", "--label", "billing-run-447", "--vendor", "stripe",
            "--allow", "GET /v1/customers/*", "--allow", "POST /v1/payment_intents", "--cap", "12.5", "--ttl", "2h", "--meta", "run_id=447", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        using var json = JsonDocument.Parse(created.Stdout);
        var id = json.RootElement.GetProperty("id").GetString()!;
        var token = json.RootElement.GetProperty("token").GetString()!;
        Assert.Equal(12.5m, json.RootElement.GetProperty("daily_usd_cap").GetDecimal());
        Assert.Equal("447", json.RootElement.GetProperty("metadata").GetProperty("run_id").GetString());
        Assert.Equal(["GET /v1/customers/*", "POST /v1/payment_intents"], json.RootElement.GetProperty("allowed_endpoints").EnumerateArray().Select(e => e.GetString()!));
        using (var call = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token)))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        var list = await Keybrake("keys", "list", "--label-prefix", "billing-run");
        Assert.True(list.ExitCode == 0, list.ToString());
        var row = Assert.Single(list.Stdout.Split('\n'), l => l.StartsWith(id, StringComparison.Ordinal));
        Assert.Contains("billing-run-447", row);
        Assert.Contains("active", row);
        Assert.Contains("$12.50", row);
        Assert.StartsWith("ID", list.Stdout);
        Assert.DoesNotContain(token, list.Stdout);

        var show = await Keybrake("keys", "show", id);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("POST /v1/payment_intents", show.Stdout);
        Assert.Contains("principal:bootstrap", show.Stdout);

        var revoke = await Keybrake("keys", "revoke", id, "--reason", "looping on refunds");
        Assert.True(revoke.ExitCode == 0, revoke.ToString());
        Assert.Contains($"Revoked {id}", revoke.Stdout);
        using (var call = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, call.StatusCode);
            Assert.Equal("key_revoked", (await ErrorJson.ReadAsync(call)).GetProperty("code").GetString());
        }
        var shown = await Keybrake("keys", "show", id, "--json");
        using var revoked = JsonDocument.Parse(shown.Stdout);
        Assert.Equal("revoked", revoked.RootElement.GetProperty("status").GetString());
        Assert.Equal("looping on refunds", revoked.RootElement.GetProperty("revoke_reason").GetString());
        Assert.Equal("principal:bootstrap", revoked.RootElement.GetProperty("revoked_by").GetString());

        var again = await Keybrake("keys", "revoke", id, "--reason", "twice");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("already revoked", again.Stdout);
        var after = await Keybrake("keys", "show", id, "--json");
        using var unchanged = JsonDocument.Parse(after.Stdout);
        Assert.Equal("looping on refunds", unchanged.RootElement.GetProperty("revoke_reason").GetString());
    }

    [Fact]
    public async Task RevokeByLabelPrefix_KillSwitch_RevokesTheRunOnly()
    {
        var (a, ta) = await Host.CreateKeyAsync("batch-447-stripe", "stripe", ["GET /v1/customers/*"]);
        var (b, _) = await Host.CreateKeyAsync("batch-447-resend", "resend", ["POST /emails"]);
        var (other, to) = await Host.CreateKeyAsync("batch-448-stripe", "stripe", ["GET /v1/customers/*"]);

        var result = await Keybrake("keys", "revoke", "--label-prefix", "batch-447", "--reason", "runaway batch");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Revoked 2 key(s)", result.Stdout);
        Assert.Contains(a, result.Stdout);
        Assert.Contains(b, result.Stdout);
        Assert.DoesNotContain(other, result.Stdout);
        using var stopped = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", ta));
        using var running = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", to));
        Assert.Equal(HttpStatusCode.Unauthorized, stopped.StatusCode);
        Assert.Equal(HttpStatusCode.OK, running.StatusCode);

        var active = await Keybrake("keys", "list", "--status", "active", "--json");
        using var json = JsonDocument.Parse(active.Stdout);
        Assert.Equal([other], json.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("id").GetString()!));

        var none = await Keybrake("keys", "revoke", "--label-prefix", "batch-447", "--reason", "again");
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Contains("nothing revoked", none.Stdout);
    }

    public static TheoryData<string[], int, string> BadUsage => new()
    {
        { ["keys", "list", "--frobnicate"], 2, "--frobnicate" },
        { ["keys", "create", "--label", "x", "--allow", "GET /v1/a", "--cap", "5"], 2, "--vendor" },
        { ["keys", "create", "--label", "x", "--vendor", "stripe", "--allow", "GET /v1/a", "--cap", "five"], 2, "--cap" },
        { ["keys", "list", "--status", "sleepy"], 2, "sleepy" },
        { ["keys", "revoke", "--reason", "r"], 2, "either a key id or --label-prefix" },
        { ["keys", "revoke", "key_01ABC", "--label-prefix", "p", "--reason", "r"], 2, "either a key id or --label-prefix" },
        { ["keys", "revoke", "key_01ABC"], 2, "--reason" },
        { ["audit", "verify", "--checkpoints", "c.ndjson"], 2, "--file" },
        { ["keys"], 2, "command" },
        { ["keys", "show", "key_00000000000000000000000000"], 1, "404" },
        { ["keys", "revoke", "key_00000000000000000000000000", "--reason", "r"], 1, "404" },
        { ["keys", "create", "--label", "bad label!", "--vendor", "stripe", "--allow", "GET /v1/a", "--cap", "5"], 1, "invalid_request" },
        { ["keys", "list", "--url", "not a url"], 2, "--url" },
    };

    [Theory]
    [MemberData(nameof(BadUsage))]
    public async Task BadInput_OneLineMessageAndDocumentedExitCode(string[] args, int exitCode, string mentions)
    {
        var result = await Keybrake(args);

        Assert.True(result.ExitCode == exitCode, result.ToString());
        AssertOneLine(result.Stderr, mentions);
    }

    [Fact]
    public async Task WrongTokenOrUnreachableUrl_Exit1WithOneLine()
    {
        var wrongToken = await CliProcess.RunAsync(Host.AdminUrl, ["keys", "list"], new() { ["KEYBRAKE_ADMIN_TOKEN"] = "kba_wrong_token_000000000000" });
        var noToken = await CliProcess.RunAsync(Host.AdminUrl, ["keys", "list"], new() { ["KEYBRAKE_ADMIN_TOKEN"] = null });
        var unreachable = await CliProcess.RunAsync($"http://127.0.0.1:{FreePort.Next()}", "keys", "list");
        var proxyListener = await CliProcess.RunAsync(Host.ProxyUrl, "keys", "list");

        Assert.True(wrongToken.ExitCode == 1, wrongToken.ToString());
        AssertOneLine(wrongToken.Stderr, "401 unauthorized");
        Assert.True(noToken.ExitCode == 2, noToken.ToString());
        AssertOneLine(noToken.Stderr, "KEYBRAKE_ADMIN_TOKEN");
        Assert.True(unreachable.ExitCode == 1, unreachable.ToString());
        AssertOneLine(unreachable.Stderr, "cannot reach the admin API");
        Assert.True(proxyListener.ExitCode == 1, proxyListener.ToString());
        AssertOneLine(proxyListener.Stderr, "404");
    }

    internal static void AssertOneLine(string stderr, string mentions)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "expected one line on stderr, got:\n" + stderr);
        Assert.StartsWith("keybrake: ", lines[0]);
        Assert.Contains(mentions, lines[0]);
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("Exception", stderr);
    }
}

using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyBrake.Audit;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Cli;

/// <summary>
/// <c>keybrake audit …</c> as a real process: the security engineer's live tail (with reconnect across a restart)
/// and the auditor's export, verified offline against the signed checkpoints, tampered copies caught.
/// </summary>
public sealed class AuditCliTests : IAsyncLifetime
{
    private FakeVendor _vendor = null!;
    private KeyBrakeHost _host = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _vendor = await FakeVendor.StartAsync();
        _host = await KeyBrakeHost.StartAsync(_vendor, new() { ["KeyBrake:Audit:CheckpointEvery"] = "5" });
        _work = Directory.CreateTempSubdirectory("keybrake-cli-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _vendor.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    private Task<CliProcess.Result> Keybrake(params string[] args) => CliProcess.RunAsync(_host.AdminUrl, args, null, _work);

    private string File(string name) => Path.Combine(_work, name);

    [Fact]
    public async Task Tail_FollowsOneLabelLive_ThenEndsCleanlyOnCtrlC()
    {
        var (_, token) = await _host.CreateKeyAsync("watched-run-1", "stripe", ["GET /v1/customers/*"]);
        var (_, other) = await _host.CreateKeyAsync("other-run", "stripe", ["GET /v1/customers/*"]);
        await using var tail = CliProcess.Start(_host.AdminUrl, ["audit", "tail", "--label", "watched-run-1", "--after-seq", "0"]);
        Assert.Contains("key.created", await tail.NextLineAsync()); // replayed: the stream is open

        await Call(other, "/stripe/v1/customers/cus_other");
        await Call(token, "/stripe/v1/customers/cus_1");
        await Call(token, "/stripe/v1/charges");

        var lines = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            lines.Add(await tail.NextLineAsync());
        }
        Assert.Contains("proxy.request", lines[0]);
        Assert.Contains("GET /v1/customers/cus_1", lines[0]);
        Assert.Contains("proxy.response", lines[1]);
        Assert.Contains("proxy.denied", lines[2]);
        Assert.Contains("deny:endpoint_not_allowed", lines[2]);
        Assert.All(lines, l => Assert.Contains("watched-run-1", l));
        Assert.DoesNotContain("cus_other", tail.Stdout);

        await tail.SignalAsync("INT");
        var result = await tail.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("Exception", result.Stderr);
    }

    [Fact]
    public async Task Tail_KeyBrakeRestarts_ReconnectsAndResumesWithoutGapOrRepeat()
    {
        var data = Directory.CreateTempSubdirectory("keybrake-restart-").FullName;
        var (proxyPort, adminPort) = (FreePort.Next(), FreePort.Next());
        var first = await KeyBrakeHost.StartAsync(_vendor, dataDirectory: data, keepData: true, proxyPort: proxyPort, adminPort: adminPort);
        var (_, token) = await first.CreateKeyAsync("restart-run", "stripe", ["GET /v1/customers/*"]);
        await using var tail = CliProcess.Start(first.AdminUrl, ["audit", "tail", "--label", "restart-run", "--after-seq", "0", "--json"]);
        Assert.Contains("key.created", await tail.NextLineAsync());
        await CallAsync(first, token, "/stripe/v1/customers/cus_1");
        var seen = new List<long>();
        for (var i = 0; i < 2; i++)
        {
            seen.Add(Seq(await tail.NextLineAsync()));
        }

        await first.DisposeAsync();
        await WaitForAsync(() => tail.Stderr.Contains("reconnecting", StringComparison.Ordinal));
        // Entries written while the tail cannot reach the admin API (this host's admin listener is elsewhere): a tail
        // that resumed at the head instead of after its last seq would never show them.
        await using (var unseen = await KeyBrakeHost.StartAsync(_vendor, dataDirectory: data, keepData: true, proxyPort: proxyPort))
        {
            await CallAsync(unseen, token, "/stripe/v1/customers/cus_2");
            await unseen.AuditFlushedAsync();
        }
        await using var second = await KeyBrakeHost.StartAsync(_vendor, dataDirectory: data, proxyPort: proxyPort, adminPort: adminPort);
        for (var i = 0; i < 2; i++)
        {
            seen.Add(Seq(await tail.NextLineAsync(TimeSpan.FromSeconds(45))));
        }
        await CallAsync(second, token, "/stripe/v1/customers/cus_3");
        for (var i = 0; i < 2; i++)
        {
            seen.Add(Seq(await tail.NextLineAsync(TimeSpan.FromSeconds(45))));
        }

        // This run's entries come once each, in order, none skipped: the two written while the tail was away included.
        Assert.Equal(seen.Order(), seen);
        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.Equal(6, seen.Count);
        Assert.Contains("cus_2", tail.Stdout);
        Assert.Contains("cus_3", tail.Stdout);
    }

    [Fact]
    public async Task ExportThenVerifyOffline_WholeLog_OkWithEveryCheckpoint()
    {
        await MakeTrafficAsync();

        var export = await ExportAsync();
        var verify = await Keybrake("audit", "verify", "--file", export, "--checkpoints", File("checkpoints.ndjson"), "--public-key", File("key.pem"));
        var online = await Keybrake("audit", "verify", "--json");

        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.StartsWith("OK: ", verify.Stdout);
        var lines = System.IO.File.ReadAllLines(export);
        Assert.Contains($"{lines.Length} entries verify", verify.Stdout);
        var checkpoints = System.IO.File.ReadAllLines(File("checkpoints.ndjson")).Length;
        Assert.True(checkpoints >= lines.Length / 5, $"expected checkpoints every 5 entries, got {checkpoints}");
        Assert.Contains($"{checkpoints} signed checkpoint(s) inside it matched", verify.Stdout);
        Assert.True(online.ExitCode == 0, online.ToString());
        using var json = JsonDocument.Parse(online.Stdout);
        Assert.True(json.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal(lines.Length, json.RootElement.GetProperty("entries").GetInt64());
        // The export the CLI wrote is the one an independent implementation also accepts.
        Assert.Equal(lines.Length, IndependentAudit.VerifyExport(System.IO.File.ReadAllText(export)).Count);
    }

    public enum Tampering { EditedField, EditedAndRehashed, RewrittenFromThere, DeletedLine, TruncatedTail }

    [Theory]
    [InlineData(Tampering.EditedField, 7)]
    [InlineData(Tampering.EditedAndRehashed, 8)]
    [InlineData(Tampering.RewrittenFromThere, 6)]
    [InlineData(Tampering.DeletedLine, 7)]
    [InlineData(Tampering.TruncatedTail, 0)]
    public async Task VerifyOffline_TamperedExport_Exit1AndFirstBadSeq(Tampering tampering, long expectedFirstBad)
    {
        await MakeTrafficAsync();
        var export = await ExportAsync();
        var lines = System.IO.File.ReadAllLines(export).ToList();
        var entries = lines.Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        switch (tampering)
        {
            case Tampering.EditedField:
                entries[6]["http_status"] = 201; // seq 7
                break;
            case Tampering.EditedAndRehashed:
                entries[6]["reason"] = "nothing to see";
                entries[6]["hash"] = AuditHash.Compute(AuditEntryJson.Parse(entries[6].ToJsonString())); // seq 8's prev_hash now breaks
                break;
            case Tampering.RewrittenFromThere:
                // A consistent rewrite from seq 7 on: every link and hash holds; only the signed checkpoints catch it.
                entries[6]["reason"] = "rewritten";
                for (var i = 6; i < entries.Count; i++)
                {
                    entries[i]["prev_hash"] = entries[i - 1]["hash"]!.GetValue<string>();
                    entries[i]["hash"] = AuditHash.Compute(AuditEntryJson.Parse(entries[i].ToJsonString()));
                }
                break;
            case Tampering.DeletedLine:
                entries.RemoveAt(6);
                break;
            case Tampering.TruncatedTail:
                // The last checkpoint is at seq 10 (every 5 of 13 entries): cut back to seq 9.
                expectedFirstBad = 10;
                entries.RemoveRange(9, entries.Count - 9);
                break;
        }
        System.IO.File.WriteAllLines(export, entries.Select(e => e.ToJsonString()));

        var verify = await Keybrake("audit", "verify", "--file", export, "--checkpoints", File("checkpoints.ndjson"), "--public-key", File("key.pem"), "--json");

        Assert.True(verify.ExitCode == 1, verify.ToString());
        using var json = JsonDocument.Parse(verify.Stdout);
        Assert.False(json.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal(expectedFirstBad, json.RootElement.GetProperty("first_bad_seq").GetInt64());
        Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("problem").GetString()));
    }

    [Fact]
    public async Task VerifyOffline_MalformedFiles_OneLineAndExit1()
    {
        await MakeTrafficAsync();
        var export = await ExportAsync();
        var lines = System.IO.File.ReadAllLines(export);
        System.IO.File.WriteAllLines(File("garbled.ndjson"), [lines[0], lines[1][..40], lines[2]]);
        System.IO.File.WriteAllLines(File("extra-field.ndjson"), [lines[0].Replace("{", "{\"extra\":1,", StringComparison.Ordinal)]);
        System.IO.File.WriteAllText(File("empty.ndjson"), "\n");
        System.IO.File.WriteAllText(File("bad-key.pem"), "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n");

        foreach (var (args, mentions) in new (string[], string)[]
        {
            (["--file", File("garbled.ndjson")], "line 2 is not an audit entry"),
            (["--file", File("extra-field.ndjson")], "unknown field \"extra\""),
            (["--file", File("empty.ndjson")], "holds no audit entries"),
            (["--file", File("missing.ndjson")], "no such file"),
            (["--file", export, "--checkpoints", export, "--public-key", File("key.pem")], "is not a checkpoint"),
            (["--file", export, "--checkpoints", File("checkpoints.ndjson"), "--public-key", File("bad-key.pem")], "not a P-256 public key"),
        })
        {
            var result = await Keybrake(["audit", "verify", .. args]);
            Assert.True(result.ExitCode == 1, string.Join(' ', args) + "\n" + result);
            KeysCliTests.AssertOneLine(result.Stderr.Replace("No checkpoints given: links and hashes are checked, but a truncated or rewritten export would pass.\n", "", StringComparison.Ordinal), mentions);
        }
    }

    [Fact]
    public async Task VerifyOffline_FromToSlice_NeedsSliceFlag_ThenVerifiesAgainstItsCheckpoints()
    {
        await MakeTrafficAsync();
        var whole = await ExportAsync();
        var entries = System.IO.File.ReadAllLines(whole);
        var from = JsonNode.Parse(entries[5])!["ts"]!.GetValue<string>(); // seq 6 onwards (seq 5 is a checkpoint)
        var slice = await Keybrake("audit", "export", "--from", from, "-o", "slice.ndjson");
        Assert.True(slice.ExitCode == 0, slice.ToString());
        var first = JsonNode.Parse(System.IO.File.ReadLines(File("slice.ndjson")).First())!["seq"]!.GetValue<long>();
        Assert.True(first > 1);

        var strict = await Keybrake("audit", "verify", "--file", File("slice.ndjson"), "--checkpoints", File("checkpoints.ndjson"), "--public-key", File("key.pem"));
        var sliced = await Keybrake("audit", "verify", "--file", File("slice.ndjson"), "--checkpoints", File("checkpoints.ndjson"), "--public-key", File("key.pem"), "--slice");

        Assert.True(strict.ExitCode == 1, strict.ToString());
        Assert.Contains("pass --slice", strict.Stdout);
        Assert.True(sliced.ExitCode == 0, sliced.ToString());
        Assert.StartsWith("OK: ", sliced.Stdout);
    }

    /// <summary>A few calls of a run: allowed, denied, a revoke; then the checkpoints and public key fetched by the CLI.</summary>
    private async Task MakeTrafficAsync()
    {
        var (id, token) = await _host.CreateKeyAsync("audited-run", "stripe", ["GET /v1/customers/*"]);
        for (var i = 0; i < 4; i++)
        {
            await Call(token, $"/stripe/v1/customers/cus_{i}");
        }
        await Call(token, "/stripe/v1/charges");
        using (var revoke = await _host.Admin.DeleteAsync($"/v1/keys/{id}?reason=done"))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }
        await Call(token, "/stripe/v1/customers/cus_9");
        await _host.AuditFlushedAsync();
    }

    private async Task<string> ExportAsync()
    {
        var export = await Keybrake("audit", "export", "--format", "ndjson", "-o", "audit.ndjson");
        Assert.True(export.ExitCode == 0, export.ToString());
        var checkpoints = await Keybrake("audit", "checkpoints");
        Assert.True(checkpoints.ExitCode == 0, checkpoints.ToString());
        System.IO.File.WriteAllText(File("checkpoints.ndjson"), checkpoints.Stdout);
        var key = await Keybrake("audit", "public-key");
        Assert.True(key.ExitCode == 0, key.ToString());
        System.IO.File.WriteAllText(File("key.pem"), key.Stdout);
        return File("audit.ndjson");
    }

    private async Task Call(string token, string path)
    {
        using var response = await _host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, path, token));
    }

    private static async Task CallAsync(KeyBrakeHost host, string token, string path)
    {
        using var response = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, path, token));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static long Seq(string line) => JsonNode.Parse(line)!["seq"]!.GetValue<long>();

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 300 && !condition(); i++)
        {
            await Task.Delay(100);
        }
        Assert.True(condition(), "condition not met within 30 s");
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using KeyBrake.Audit;

namespace KeyBrake.Cli;

/// <summary><c>keybrake audit tail | export | verify | checkpoints | public-key</c> (SPEC §8, §7).</summary>
internal static class AuditCommands
{
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(10);

    public static Command Build(CliContext context)
    {
        var audit = new Command("audit", "Follow, export and verify the hash-chained audit log");
        audit.Subcommands.Add(Tail(context));
        audit.Subcommands.Add(Export(context));
        audit.Subcommands.Add(Verify(context));
        audit.Subcommands.Add(Checkpoints(context));
        audit.Subcommands.Add(PublicKey(context));
        return audit;
    }

    private static Command Tail(CliContext context)
    {
        var command = new Command("tail", "Follow the audit log live (replays from --after-seq first); Ctrl-C to stop");
        var label = new Option<string?>("--label") { Description = "Only entries with this label" };
        var key = new Option<string?>("--key") { Description = "Only entries of this key id" };
        var after = new Option<long?>("--after-seq") { Description = "Replay entries after this seq, then follow" };
        command.Options.Add(label);
        command.Options.Add(key);
        command.Options.Add(after);
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(after) is < 0)
            {
                throw CliException.Usage("--after-seq must be 0 or more");
            }
            using var admin = CliContext.Admin(parse);
            return await FollowAsync(context, admin, parse.GetValue(label), parse.GetValue(key), parse.GetValue(after), CliContext.WantsJson(parse), ct);
        });
        return command;
    }

    /// <summary>
    /// Follows the SSE stream; when the connection drops (KeyBrake restarts, the network blips) it reconnects with
    /// back-off and resumes after the last seq it printed, so nothing is shown twice or skipped. Refusals (401, 403,
    /// 400) end it with exit 1; Ctrl-C ends it with exit 0.
    /// </summary>
    private static async Task<int> FollowAsync(CliContext context, AdminClient admin, string? label, string? keyId, long? afterSeq, bool json, CancellationToken ct)
    {
        var last = afterSeq;
        try
        {
            var probe = await admin.GetAsync("v1/audit" + KeysCommands.Query(
                ("label", label), ("key_id", keyId), ("after_seq", last?.ToString(CultureInfo.InvariantCulture)), ("limit", "1")), ct);
            if (probe.GetProperty("entries").GetArrayLength() == 0)
            {
                var filter = label is not null ? $"label '{label}'" : keyId is not null ? $"key {keyId}" : "the audit log";
                await context.Error.WriteLineAsync($"No entries yet for {filter}{(last is null ? "" : $" after seq {last}")}; waiting for new ones (Ctrl-C to stop).");
            }
            var delay = TimeSpan.FromSeconds(1);
            while (true)
            {
                try
                {
                    var path = "v1/audit/stream" + KeysCommands.Query(
                        ("label", label), ("key_id", keyId), ("after_seq", last?.ToString(CultureInfo.InvariantCulture)));
                    using var response = await admin.OpenStreamAsync(path, null, ct);
                    delay = TimeSpan.FromSeconds(1);
                    await using var stream = await response.Content.ReadAsStreamAsync(ct);
                    await foreach (var message in ServerSentEvents.ReadAsync(stream, ct))
                    {
                        if (message.Type != "audit")
                        {
                            continue;
                        }
                        var entry = AuditEntryJson.Parse(message.Data);
                        await context.Out.WriteLineAsync(json ? message.Data : EntryText.Line(context, entry));
                        await context.Out.FlushAsync(ct);
                        last = entry.Seq;
                    }
                    await context.Error.WriteLineAsync("The admin API closed the stream; reconnecting…");
                }
                catch (CliException e) when (e.Transient)
                {
                    await context.Error.WriteLineAsync($"{e.Message}; reconnecting in {delay.TotalSeconds:0} s…");
                }
                catch (Exception e) when (e is IOException or HttpRequestException)
                {
                    await context.Error.WriteLineAsync($"The stream broke ({e.Message}); reconnecting in {delay.TotalSeconds:0} s…");
                }
                await Task.Delay(delay, context.Time, ct);
                delay = TimeSpan.FromTicks(Math.Min(MaxReconnectDelay.Ticks, delay.Ticks * 2));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
        catch (FormatException e)
        {
            throw new CliException($"the stream carried something that is not an audit entry: {e.Message}");
        }
    }

    private static Command Export(CliContext context)
    {
        var command = new Command("export", "Export the audit log (streamed) to stdout or --output");
        var format = new Option<string>("--format") { Description = "ndjson or csv", DefaultValueFactory = _ => "ndjson" };
        format.AcceptOnlyFromAmong("ndjson", "csv");
        var from = new Option<string?>("--from") { Description = "From this UTC time (inclusive), e.g. 2026-11-23T00:00:00Z" };
        var to = new Option<string?>("--to") { Description = "To this UTC time (exclusive)" };
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file instead of stdout" };
        command.Options.Add(format);
        command.Options.Add(from);
        command.Options.Add(to);
        command.Options.Add(output);
        command.SetAction(async (parse, ct) =>
        {
            using var admin = CliContext.Admin(parse);
            var path = "v1/audit/export" + KeysCommands.Query(("format", parse.GetValue(format)), ("from", parse.GetValue(from)), ("to", parse.GetValue(to)));
            using var response = await admin.OpenStreamAsync(path, null, ct);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            if (parse.GetValue(output) is { } file)
            {
                var partial = file + ".partial";
                await using (var target = new FileStream(partial, FileMode.Create, FileAccess.Write))
                {
                    await body.CopyToAsync(target, ct);
                }
                File.Move(partial, file, overwrite: true);
                await context.Error.WriteLineAsync($"Wrote {new FileInfo(file).Length} bytes to {file}.");
            }
            else
            {
                await context.Out.FlushAsync(ct);
                await using var stdout = Console.OpenStandardOutput();
                await body.CopyToAsync(stdout, ct);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Verify(CliContext context)
    {
        var command = new Command("verify", "Verify the chain: online (the server's log) or offline on an export (--file)");
        var file = new Option<string?>("--file") { Description = "An NDJSON export to verify offline" };
        var checkpoints = new Option<string?>("--checkpoints") { Description = "Checkpoints: data/checkpoints.ndjson or the JSON of `audit checkpoints --json`" };
        var publicKey = new Option<string?>("--public-key") { Description = "The checkpoint public key (PEM), from `audit public-key`" };
        var slice = new Option<bool>("--slice") { Description = "The export is a --from/--to slice: start from its first prev_hash" };
        command.Options.Add(file);
        command.Options.Add(checkpoints);
        command.Options.Add(publicKey);
        command.Options.Add(slice);
        command.Validators.Add(result =>
        {
            if (result.GetValue(file) is null && (result.GetValue(checkpoints) is not null || result.GetValue(publicKey) is not null || result.GetValue(slice)))
            {
                result.AddError("--checkpoints, --public-key and --slice go with --file (offline verification)");
            }
            else if (result.GetValue(checkpoints) is not null && result.GetValue(publicKey) is null)
            {
                result.AddError("--checkpoints needs --public-key: a checkpoint is only as good as its signature");
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(file) is { } export)
            {
                var outcome = OfflineVerify.Run(export, parse.GetValue(checkpoints), parse.GetValue(publicKey), parse.GetValue(slice));
                if (parse.GetValue(checkpoints) is null)
                {
                    await context.Error.WriteLineAsync("No checkpoints given: links and hashes are checked, but a truncated or rewritten export would pass.");
                }
                if (outcome.Note is not null)
                {
                    await context.Error.WriteLineAsync("Note: " + outcome.Note);
                }
                return Report(context, parse, outcome.Result,
                    $"; {outcome.CheckpointsInside} signed checkpoint(s) inside it matched ({outcome.CheckpointsSigned} signature(s) valid)");
            }
            using var admin = CliContext.Admin(parse);
            var json = await admin.GetAsync("v1/audit/verify", ct);
            var head = json.GetProperty("head");
            var result = new VerifyResult(
                json.GetProperty("ok").GetBoolean(), json.GetProperty("entries").GetInt64(),
                head.GetProperty("seq").GetInt64(), head.GetProperty("hash").GetString() ?? "",
                json.GetProperty("first_bad_seq").ValueKind == JsonValueKind.Number ? json.GetProperty("first_bad_seq").GetInt64() : null,
                json.GetProperty("problem").GetString());
            return Report(context, parse, result, $" (verified by the server at {admin.BaseUrl})");
        });
        return command;
    }

    private static int Report(CliContext context, ParseResult parse, VerifyResult result, string how)
    {
        if (CliContext.WantsJson(parse))
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["ok"] = result.Ok,
                ["entries"] = result.Entries,
                ["head"] = new Dictionary<string, object> { ["seq"] = result.HeadSeq, ["hash"] = result.HeadHash },
                ["first_bad_seq"] = result.FirstBadSeq,
                ["problem"] = result.Problem,
            }));
        }
        else if (result.Ok)
        {
            context.Out.WriteLine(context.Paint("OK", "32") + $": {result.Entries} entries verify, head seq {result.HeadSeq} hash {result.HeadHash}{how}.");
        }
        else
        {
            context.Out.WriteLine(context.Paint("BROKEN", "31") + $": first bad seq {result.FirstBadSeq}: {result.Problem}.");
        }
        return result.Ok ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static Command Checkpoints(CliContext context)
    {
        var command = new Command("checkpoints", "Print the signed checkpoints, one JSON object per line (as data/checkpoints.ndjson)");
        command.SetAction(async (parse, ct) =>
        {
            using var admin = CliContext.Admin(parse);
            var json = await admin.GetAsync("v1/audit/checkpoints", ct);
            if (CliContext.WantsJson(parse))
            {
                KeysCommands.WriteJson(context, json);
                return ExitCodes.Ok;
            }
            foreach (var checkpoint in json.GetProperty("checkpoints").EnumerateArray())
            {
                await context.Out.WriteLineAsync(checkpoint.GetRawText());
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command PublicKey(CliContext context)
    {
        var command = new Command("public-key", "Print the checkpoint public key (PEM)");
        command.SetAction(async (parse, ct) =>
        {
            using var admin = CliContext.Admin(parse);
            await context.Out.WriteAsync(await admin.GetTextAsync("v1/audit/public-key", ct));
            return ExitCodes.Ok;
        });
        return command;
    }
}

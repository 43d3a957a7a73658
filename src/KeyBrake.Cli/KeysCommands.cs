using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KeyBrake.Cli;

/// <summary><c>keybrake keys create | list | show | revoke</c> (SPEC §8).</summary>
internal static class KeysCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Build(CliContext context)
    {
        var keys = new Command("keys", "Issue, list, show and revoke vault keys");
        keys.Subcommands.Add(Create(context));
        keys.Subcommands.Add(List(context));
        keys.Subcommands.Add(Show(context));
        keys.Subcommands.Add(Revoke(context));
        return keys;
    }

    public static void WriteJson(CliContext context, JsonElement json) => context.Out.WriteLine(JsonSerializer.Serialize(json, Indented));

    private static Command Create(CliContext context)
    {
        var command = new Command("create", "Issue a key; its token is printed this once");
        var options = new KeyOptions();
        options.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var body = options.ToRequest(parse);
            using var admin = CliContext.Admin(parse);
            var key = await admin.SendAsync(HttpMethod.Post, "v1/keys", body, ct);
            if (CliContext.WantsJson(parse))
            {
                WriteJson(context, key);
                return ExitCodes.Ok;
            }
            KeyText.WriteOne(context, key);
            context.Out.WriteLine();
            context.Out.WriteLine($"token: {KeyText.Str(key, "token")}");
            context.Error.WriteLine("The token is shown this once: hand it to the run now. KeyBrake keeps only its hash.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(CliContext context)
    {
        var command = new Command("list", "List keys");
        var status = new Option<string?>("--status") { Description = "active, expired or revoked" };
        var prefix = new Option<string?>("--label-prefix") { Description = "Only labels starting with this" };
        var vendor = new Option<string?>("--vendor") { Description = "Only this vendor" };
        status.AcceptOnlyFromAmong("active", "expired", "revoked");
        command.Options.Add(status);
        command.Options.Add(prefix);
        command.Options.Add(vendor);
        command.SetAction(async (parse, ct) =>
        {
            var query = Query(("status", parse.GetValue(status)), ("label_prefix", parse.GetValue(prefix)), ("vendor", parse.GetValue(vendor)));
            using var admin = CliContext.Admin(parse);
            var result = await admin.GetAsync("v1/keys" + query, ct);
            if (CliContext.WantsJson(parse))
            {
                WriteJson(context, result);
            }
            else
            {
                KeyText.WriteList(context, result.GetProperty("keys"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show(CliContext context)
    {
        var command = new Command("show", "Show one key");
        var id = new Argument<string>("id") { Description = "Key id (key_…)" };
        command.Arguments.Add(id);
        command.SetAction(async (parse, ct) =>
        {
            using var admin = CliContext.Admin(parse);
            var key = await admin.GetAsync("v1/keys/" + Uri.EscapeDataString(parse.GetValue(id)!), ct);
            if (CliContext.WantsJson(parse))
            {
                WriteJson(context, key);
            }
            else
            {
                KeyText.WriteOne(context, key);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Revoke(CliContext context)
    {
        var command = new Command("revoke", "Revoke one key by id, or every key of a run with --label-prefix (the kill switch)");
        var id = new Argument<string?>("id") { Description = "Key id (key_…)", Arity = ArgumentArity.ZeroOrOne };
        var prefix = new Option<string?>("--label-prefix") { Description = "Revoke every active key whose label starts with this" };
        var reason = new Option<string>("--reason") { Description = "Why (recorded in the audit log)", Required = true };
        command.Arguments.Add(id);
        command.Options.Add(prefix);
        command.Options.Add(reason);
        command.Validators.Add(result =>
        {
            if ((result.GetValue(id) is null) == (result.GetValue(prefix) is null))
            {
                result.AddError("give either a key id or --label-prefix, not both and not neither");
            }
        });
        command.SetAction(async (parse, ct) =>
        {
            using var admin = CliContext.Admin(parse);
            try
            {
                return parse.GetValue(prefix) is { } labelPrefix
                    ? await RevokeByPrefixAsync(context, parse, admin, labelPrefix, parse.GetValue(reason)!, ct)
                    : await RevokeOneAsync(context, parse, admin, parse.GetValue(id)!, parse.GetValue(reason)!, ct);
            }
            catch (CliException e) when (e.Code == "revocation_pending")
            {
                // SPEC §3: refused by the server already, not yet durable in its store. Not a success (exit 1), but not
                // an outage either: say what holds and what to do.
                var target = parse.GetValue(prefix) is { } p ? $"every key whose label starts with '{p}'" : parse.GetValue(id);
                throw new CliException(
                    $"revocation pending (503 revocation_pending): KeyBrake refuses {target} from now on (401 key_revoked), but its store " +
                    "has not recorded the revocation yet (locked, busy or full) and retries until it does. Run the same command again " +
                    "to confirm; it is safe to repeat.") { Code = e.Code };
            }
        });
        return command;
    }

    private static async Task<int> RevokeOneAsync(CliContext context, ParseResult parse, AdminClient admin, string id, string reason, CancellationToken ct)
    {
        var path = "v1/keys/" + Uri.EscapeDataString(id);
        JsonElement before;
        try
        {
            before = await admin.GetAsync(path, ct);
        }
        catch (CliException e) when (e.Transient)
        {
            // The server could not read its store: revoke anyway, it refuses the key in memory and retries the write.
            before = default;
        }
        var alreadyRevoked = before.ValueKind == JsonValueKind.Object && KeyText.Str(before, "status") == "revoked";
        var key = alreadyRevoked
            ? before
            : await admin.SendAsync(HttpMethod.Delete, path + "?reason=" + Uri.EscapeDataString(reason), null, ct);
        if (CliContext.WantsJson(parse))
        {
            WriteJson(context, key);
        }
        else if (alreadyRevoked)
        {
            context.Out.WriteLine($"{id} was already revoked at {KeyText.Str(key, "revoked_at")} by {KeyText.Str(key, "revoked_by")}; nothing changed.");
        }
        else
        {
            context.Out.WriteLine($"Revoked {id} ({KeyText.Str(key, "label")}) at {KeyText.Str(key, "revoked_at")}: its next request gets 401 key_revoked.");
        }
        return ExitCodes.Ok;
    }

    private static async Task<int> RevokeByPrefixAsync(CliContext context, ParseResult parse, AdminClient admin, string prefix, string reason, CancellationToken ct)
    {
        var result = await admin.SendAsync(HttpMethod.Post, "v1/keys/revoke", new JsonObject { ["label_prefix"] = prefix, ["reason"] = reason }, ct);
        if (CliContext.WantsJson(parse))
        {
            WriteJson(context, result);
            return ExitCodes.Ok;
        }
        var ids = result.GetProperty("revoked").EnumerateArray().Select(e => e.GetString()).ToList();
        context.Out.WriteLine(ids.Count == 0
            ? $"No active key has a label starting with '{prefix}'; nothing revoked."
            : $"Revoked {ids.Count} key(s) with label prefix '{prefix}':");
        foreach (var revoked in ids)
        {
            context.Out.WriteLine("  " + revoked);
        }
        return ExitCodes.Ok;
    }

    public static string Query(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }
}

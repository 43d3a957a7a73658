using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KeyBrake.Cli;

/// <summary>
/// <c>keybrake run … -- COMMAND</c>: issue a key for one run, start COMMAND with the token and base URL in its
/// environment, revoke the key when COMMAND ends however it ends, and exit with COMMAND's code. "Issue before the
/// run, revoke in finally", as one line.
/// </summary>
internal static class RunCommand
{
    /// <summary>How long a Ctrl-C (which the terminal also sends to COMMAND) gets before it is relayed.</summary>
    private static readonly TimeSpan InterruptGrace = TimeSpan.FromSeconds(2);

    public static Command Build(CliContext context)
    {
        var command = new Command("run", "Run COMMAND with a fresh key for one run; the key is revoked when COMMAND exits");
        var options = new KeyOptions();
        options.AddTo(command);
        var proxyUrl = new Option<string?>("--proxy-url") { Description = "KeyBrake's proxy listener (default: $KEYBRAKE_PROXY_URL or http://127.0.0.1:8080)" };
        var commandLine = new Argument<string[]>("command") { Description = "The command and its arguments, after --", Arity = ArgumentArity.OneOrMore };
        command.Options.Add(proxyUrl);
        command.Arguments.Add(commandLine);
        command.SetAction(async (parse, ct) =>
        {
            var argv = parse.GetValue(commandLine)!;
            var proxy = CliContext.ParseUrl("--proxy-url",
                parse.GetValue(proxyUrl) ?? Environment.GetEnvironmentVariable("KEYBRAKE_PROXY_URL") ?? "http://127.0.0.1:8080");
            var body = options.ToRequest(parse, [new("launched_by", "keybrake run"), new("command", Path.GetFileName(argv[0]))]);
            using var admin = CliContext.Admin(parse);
            // The key is created before COMMAND starts; an interrupt from here on still ends in its revocation.
            var key = await admin.SendAsync(HttpMethod.Post, "v1/keys", body, CancellationToken.None);
            var keyId = KeyText.Str(key, "id");
            var vendor = KeyText.Str(key, "vendor");
            var reason = "keybrake run: the command did not start";
            try
            {
                var start = Start(argv, RunEnvironment(key, vendor, new Uri(proxy, vendor)));
                await context.Error.WriteLineAsync($"keybrake: running {argv[0]} with key {keyId} ({KeyText.Str(key, "label")}); it is revoked when the command exits.");
                var exitCode = await WaitAsync(context, start);
                reason = $"keybrake run: the command exited with code {exitCode}";
                return exitCode;
            }
            finally
            {
                await RevokeAsync(context, admin, keyId, reason);
            }
        });
        return command;
    }

    private static Dictionary<string, string> RunEnvironment(System.Text.Json.JsonElement key, string vendor, Uri baseUrl)
    {
        var token = KeyText.Str(key, "token");
        var url = baseUrl.ToString().TrimEnd('/');
        var variables = new Dictionary<string, string>
        {
            ["KEYBRAKE_TOKEN"] = token,
            ["KEYBRAKE_BASE_URL"] = url,
            ["KEYBRAKE_KEY_ID"] = KeyText.Str(key, "id"),
            ["KEYBRAKE_LABEL"] = KeyText.Str(key, "label"),
        };
        switch (vendor)
        {
            case "stripe":
                variables["STRIPE_API_KEY"] = token;
                variables["STRIPE_BASE_URL"] = url;
                break;
            case "twilio":
                variables["TWILIO_AUTH_TOKEN"] = token;
                variables["TWILIO_BASE_URL"] = url;
                break;
            case "resend":
                variables["RESEND_API_KEY"] = token;
                variables["RESEND_BASE_URL"] = url;
                break;
        }
        return variables;
    }

    private static Process Start(string[] argv, Dictionary<string, string> variables)
    {
        var info = new ProcessStartInfo(argv[0]) { UseShellExecute = false };
        foreach (var argument in argv.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }
        // The run gets its vault key, never the operator's principal token.
        info.Environment.Remove("KEYBRAKE_ADMIN_TOKEN");
        foreach (var (name, value) in variables)
        {
            info.Environment[name] = value;
        }
        try
        {
            return Process.Start(info) ?? throw new CliException($"could not start {argv[0]}");
        }
        catch (Win32Exception e)
        {
            // 127, as a shell answers a command it cannot find or run.
            throw new CliException($"could not start {argv[0]}: {e.Message}", 127);
        }
    }

    /// <summary>
    /// Waits for COMMAND, relaying SIGTERM, SIGHUP and SIGQUIT at once. A terminal's Ctrl-C reaches COMMAND directly (it
    /// shares our process group), so SIGINT is relayed only if COMMAND is still running after a grace period, or at once
    /// on a second SIGINT: a command that handles Ctrl-C gets it once.
    /// </summary>
    private static async Task<int> WaitAsync(CliContext context, Process process)
    {
        var interrupts = 0;
        void OnSignal(PosixSignal signal)
        {
            if (process.HasExited)
            {
                return;
            }
            if (signal != PosixSignal.SIGINT || Interlocked.Increment(ref interrupts) > 1)
            {
                Native.Signal(process.Id, signal);
                return;
            }
            _ = Task.Delay(InterruptGrace, context.Time).ContinueWith(_ =>
            {
                if (!process.HasExited)
                {
                    Native.Signal(process.Id, PosixSignal.SIGINT);
                }
            }, TaskScheduler.Default);
        }
        context.Interrupts.Received += OnSignal;
        try
        {
            await process.WaitForExitAsync(CancellationToken.None);
            return process.ExitCode;
        }
        finally
        {
            context.Interrupts.Received -= OnSignal;
            process.Dispose();
        }
    }

    /// <summary>Revokes with a few retries; a key left live is said loudly (it still dies at its expiry).</summary>
    private static async Task RevokeAsync(CliContext context, AdminClient admin, string keyId, string reason)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await admin.SendAsync(HttpMethod.Delete, $"v1/keys/{Uri.EscapeDataString(keyId)}?reason={Uri.EscapeDataString(reason)}", null, CancellationToken.None);
                await context.Error.WriteLineAsync($"keybrake: revoked {keyId}.");
                return;
            }
            catch (CliException e) when (attempt < 4 && e.Transient)
            {
                await Task.Delay(TimeSpan.FromSeconds(attempt), context.Time);
            }
            catch (CliException e)
            {
                await context.Error.WriteLineAsync($"keybrake: COULD NOT REVOKE {keyId}: {e.Message}. Revoke it by hand: keybrake keys revoke {keyId} --reason '...'");
                return;
            }
        }
    }
}

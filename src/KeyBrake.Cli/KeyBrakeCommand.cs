using System.CommandLine;

namespace KeyBrake.Cli;

/// <summary>The root of <c>keybrake</c>: parse, refuse bad usage with exit 2, run, turn failures into one line.</summary>
internal static class KeyBrakeCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        using var interrupts = new Interrupts();
        var context = new CliContext(interrupts, Console.Out, Console.Error, TimeProvider.System)
        {
            Colour = !Console.IsOutputRedirected && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")),
        };
        var root = Build(context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var names = new List<string>();
            for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            {
                names.Insert(0, result.Command == root ? "keybrake" : result.Command.Name);
            }
            var message = string.Join(' ', parse.Errors[0].Message.Split((char[])['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()));
            await context.Error.WriteLineAsync($"keybrake: {message} (see '{string.Join(' ', names)} --help')");
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                ProcessTerminationTimeout = null,
                EnableDefaultExceptionHandler = false,
                Output = context.Out,
                Error = context.Error,
            }, interrupts.Token);
        }
        catch (CliException e)
        {
            await context.Error.WriteLineAsync("keybrake: " + e.Message);
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (interrupts.Token.IsCancellationRequested)
        {
            return 130;
        }
    }

    public static RootCommand Build(CliContext context)
    {
        var root = new RootCommand("keybrake: vault keys for AI agents' paid API calls, their audit log, and `keybrake run`.");
        root.Options.Add(CliContext.UrlOption);
        root.Options.Add(CliContext.JsonOption);
        root.Subcommands.Add(KeysCommands.Build(context));
        root.Subcommands.Add(AuditCommands.Build(context));
        root.Subcommands.Add(RunCommand.Build(context));
        return root;
    }
}

using KeyBrake.Bench;

// One executable, four roles: the driver (default) starts the others as child processes of itself.
return args.FirstOrDefault() switch
{
    "stub" => await Servers.StubAsync(Arg(args, "--port")),
    "yarp" => await Servers.YarpAsync(Arg(args, "--port"), Arg(args, "--upstream")),
    "keybrake" => await Servers.KeyBrakeAsync(Arg(args, "--port"), Arg(args, "--admin-port"), Arg(args, "--upstream"), Arg(args, "--data"), args.Contains("--no-audit"),
        Optional(args, "--postgres"), Optional(args, "--signing-key")),
    _ => await Driver.RunAsync(args),
};

static string Arg(string[] args, string name) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{name} is required");

static string? Optional(string[] args, string name) =>
    Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

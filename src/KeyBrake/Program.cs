using KeyBrake;
using KeyBrake.Storage;
using Microsoft.Extensions.Options;

if (args is [HealthCheckCommand.Name, ..])
{
    return await HealthCheckCommand.RunAsync(args);
}
if (args is [StorageCopyCommand.Name, ..])
{
    return await StorageCopyCommand.RunAsync(args);
}

OwnerOnlyFile.RestrictProcessUmask(); // SPEC §2: files 0600, directories 0700, whoever creates them

var builder = WebApplication.CreateBuilder(args);
builder.AddKeyBrake();

var app = builder.Build();
try
{
    app.MapKeyBrake();
    await app.RunAsync();
}
// Every configuration error, or every listener that cannot bind, at once and without a stack trace; exit code 2 (a
// usage error, not a crash).
catch (OptionsValidationException e)
{
    return await NotStartedAsync(app, "the configuration is invalid", e.Failures);
}
catch (ListenerBindException e)
{
    return await NotStartedAsync(app, "a listener cannot bind", e.Failures);
}
catch (Exception e) when (ListenerBinding.IsBindFailure(e))
{
    return await NotStartedAsync(app, "a listener cannot bind", [e.Message]);
}
// SPEC §9: a database server that cannot be reached at start (migrations run first): the orchestrator restarts us.
catch (System.Data.Common.DbException e)
{
    await NotStartedAsync(app, "the store cannot be reached", [e.Message]);
    return 1;
}
return 0;

static async Task<int> NotStartedAsync(WebApplication app, string why, IEnumerable<string> failures)
{
    await Console.Error.WriteLineAsync($"KeyBrake did not start: {why}.");
    foreach (var failure in failures)
    {
        await Console.Error.WriteLineAsync("  - " + failure);
    }
    await app.DisposeAsync();
    return 2;
}

using KeyBrake;
using Microsoft.Extensions.Options;

if (args is [HealthCheckCommand.Name, ..])
{
    return await HealthCheckCommand.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddKeyBrake();

var app = builder.Build();
try
{
    app.MapKeyBrake();
    await app.RunAsync();
}
catch (OptionsValidationException e)
{
    // Every configuration error at once, without a stack trace; exit code 2 (a usage error, not a crash).
    await Console.Error.WriteLineAsync("KeyBrake did not start: the configuration is invalid.");
    foreach (var failure in e.Failures)
    {
        await Console.Error.WriteLineAsync("  - " + failure);
    }
    return 2;
}
return 0;

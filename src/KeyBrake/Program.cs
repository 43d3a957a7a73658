using KeyBrake;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);
builder.AddKeyBrake();

var app = builder.Build();
try
{
    app.MapKeyBrake();
    app.Run();
}
catch (OptionsValidationException e)
{
    // Every configuration error at once, without a stack trace; exit code 2 (a usage error, not a crash).
    Console.Error.WriteLine("KeyBrake did not start: the configuration is invalid.");
    foreach (var failure in e.Failures)
    {
        Console.Error.WriteLine("  - " + failure);
    }
    return 2;
}
return 0;

using KeyBrake.Admin;
using KeyBrake.Audit;
using KeyBrake.Keys;
using KeyBrake.Proxy;
using KeyBrake.Secrets;
using KeyBrake.Spend;
using KeyBrake.Storage;
using Microsoft.Extensions.Configuration.Memory;

namespace KeyBrake;

internal static class KeyBrakeHostExtensions
{
    /// <summary>Documented defaults (README, SPEC §1–§2), at the lowest priority so every other source overrides them.</summary>
    internal static readonly Dictionary<string, string?> Defaults = new()
    {
        ["Kestrel:Endpoints:Proxy:Url"] = "http://0.0.0.0:8080",
        ["Kestrel:Endpoints:Admin:Url"] = "http://127.0.0.1:8081",
        ["KeyBrake:Vendors:stripe:Upstream"] = "https://api.stripe.com",
        ["KeyBrake:Vendors:stripe:SecretName"] = "stripe-api-key",
        ["KeyBrake:Vendors:stripe:Auth"] = VendorCredential.Bearer,
        ["KeyBrake:Vendors:twilio:Upstream"] = "https://api.twilio.com",
        ["KeyBrake:Vendors:twilio:SecretName"] = "twilio-auth-token",
        ["KeyBrake:Vendors:twilio:Auth"] = VendorCredential.Basic,
        ["KeyBrake:Vendors:resend:Upstream"] = "https://api.resend.com",
        ["KeyBrake:Vendors:resend:SecretName"] = "resend-api-key",
        ["KeyBrake:Vendors:resend:Auth"] = VendorCredential.Bearer,
    };

    public static WebApplicationBuilder AddKeyBrake(this WebApplicationBuilder builder)
    {
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Defaults });
        builder.Services.AddOptionsWithValidateOnStart<KeyBrakeOptions>()
            .Bind(builder.Configuration.GetSection(KeyBrakeOptions.Section));
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<KeyBrakeOptions>, KeyBrakeOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);

        var listeners = ListenerMap.FromConfiguration(builder.Configuration);
        builder.Configuration.AddInMemoryCollection(listeners.VendorEndpointConfiguration());
        builder.Services.AddSingleton(listeners);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

        builder.Services.AddKeyBrakeStorage();
        builder.Services.AddKeyBrakeKeys();
        builder.Services.AddKeyBrakeAdmin();
        builder.Services.AddKeyBrakeSecrets(builder.Configuration);
        builder.Services.AddKeyBrakeSpend();
        builder.Services.AddKeyBrakeAudit();
        builder.Services.AddKeyBrakeProxy();
        return builder;
    }

    public static WebApplication MapKeyBrake(this WebApplication app)
    {
        app.Services.GetRequiredService<SqliteDatabase>().Migrate();
        app.Services.GetRequiredService<AuditLog>().Start(); // checks the chain's tail; before anything writes an entry
        app.Services.GetRequiredService<AdminBootstrap>().Run();

        app.UseMiddleware<ListenerGateMiddleware>();
        app.UseRouting(); // explicitly after the gate: routes are matched on the path the gate admitted (and rewrote for vendor ports)
        app.MapKeyBrakeAdmin();
        app.MapKeyBrakeKeys();
        app.MapKeyBrakeAudit();
        app.MapKeyBrakeProxy();
        return app;
    }
}

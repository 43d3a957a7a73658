using KeyBrake.Admin;
using KeyBrake.Admin.Dashboard;
using KeyBrake.Audit;
using KeyBrake.Keys;
using KeyBrake.Proxy;
using KeyBrake.Secrets;
using KeyBrake.Spend;
using KeyBrake.Storage;
using KeyBrake.Telemetry;
using KeyBrake.Vendors;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KeyBrake;

internal static class KeyBrakeHostExtensions
{
    /// <summary>Documented defaults (README, SPEC §1–§2), at the lowest priority so every other source overrides them.</summary>
    internal static readonly Dictionary<string, string?> Defaults = new(VendorProfiles.ConfigurationDefaults) // KeyBrake:Vendors:{name}:Upstream/SecretName/Auth
    {
        ["Kestrel:Endpoints:Proxy:Url"] = "http://0.0.0.0:8080",
        ["Kestrel:Endpoints:Admin:Url"] = "http://127.0.0.1:8081",
        // Pricing (SPEC §5): FX as micro-USD per major unit, rounded up; prices in micro-USD. Set your own.
        ["KeyBrake:Pricing:Fx:usd"] = "1000000",
        ["KeyBrake:Pricing:Fx:eur"] = "1100000",
        ["KeyBrake:Pricing:Fx:gbp"] = "1300000",
        ["KeyBrake:Pricing:Fx:chf"] = "1150000",
        ["KeyBrake:Pricing:Fx:cad"] = "750000",
        ["KeyBrake:Pricing:Fx:aud"] = "680000",
        ["KeyBrake:Pricing:Fx:nzd"] = "620000",
        ["KeyBrake:Pricing:Fx:sgd"] = "780000",
        ["KeyBrake:Pricing:Fx:hkd"] = "130000",
        ["KeyBrake:Pricing:Fx:sek"] = "100000",
        ["KeyBrake:Pricing:Fx:nok"] = "100000",
        ["KeyBrake:Pricing:Fx:dkk"] = "150000",
        ["KeyBrake:Pricing:Fx:inr"] = "12000",
        ["KeyBrake:Pricing:Fx:mxn"] = "60000",
        ["KeyBrake:Pricing:Fx:brl"] = "200000",
        ["KeyBrake:Pricing:Fx:jpy"] = "7000",
        ["KeyBrake:Pricing:Fx:krw"] = "750",
        ["KeyBrake:Pricing:Fx:clp"] = "1100",
        ["KeyBrake:Pricing:Fx:vnd"] = "40",
        ["KeyBrake:Pricing:Fx:bhd"] = "2660000",
        ["KeyBrake:Pricing:Fx:jod"] = "1410000",
        ["KeyBrake:Pricing:Fx:kwd"] = "3260000",
        ["KeyBrake:Pricing:Fx:omr"] = "2600000",
        ["KeyBrake:Pricing:Fx:tnd"] = "330000",
        ["KeyBrake:Pricing:ZeroDecimalCurrencies"] = "bif,clp,djf,gnf,jpy,kmf,krw,mga,pyg,rwf,ugx,vnd,vuv,xaf,xof,xpf",
        ["KeyBrake:Pricing:ThreeDecimalCurrencies"] = "bhd,jod,kwd,omr,tnd",
        ["KeyBrake:Pricing:Twilio:SegmentMicros"] = "8300",
        ["KeyBrake:Pricing:Twilio:MmsMicros"] = "20000",
        ["KeyBrake:Pricing:Twilio:CallMicros"] = "500000",
        ["KeyBrake:Pricing:Twilio:PhoneNumberMicros"] = "1150000",
        ["KeyBrake:Pricing:Resend:EmailMicros"] = "1000",
    };

    /// <summary>The documented defaults, beneath every configuration source the builder already has.</summary>
    public static void AddDefaults(IConfigurationBuilder configuration) =>
        configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Defaults });

    public static WebApplicationBuilder AddKeyBrake(this WebApplicationBuilder builder)
    {
        AddDefaults(builder.Configuration);
        builder.Services.AddKeyBrakeOptions(builder.Configuration);
        builder.Services.AddSingleton(TimeProvider.System);
        // Graceful shutdown: the server stops first (refuses new connections, drains in-flight calls), then the
        // audit log's hosted service flushes the writer and takes a last checkpoint.
        // Bound apart from the validated options: a bad value is reported by validation with the rest, not thrown here
        // while the host is built.
        var configuration = builder.Configuration;
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout =
            OptionsBinding.Get<ProxyOptions>(configuration.GetSection("KeyBrake:Proxy")).DrainTimeout);

        var listeners = ListenerMap.FromConfiguration(builder.Configuration);
        builder.Configuration.AddInMemoryCollection(listeners.VendorEndpointConfiguration());
        builder.Services.AddSingleton(listeners);
        // A listener URL or port that is wrong is listed with every other configuration error (exit 2), not thrown here.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsSectionValidator, ListenersValidator>());
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

        builder.Services.AddHostedService<KeyBrakeStartup>(); // first: its StartingAsync runs before every other service
        builder.Services.AddKeyBrakeStorage(builder.Configuration);
        builder.Services.AddKeyBrakeKeys();
        builder.Services.AddKeyBrakeAdmin();
        builder.Services.AddKeyBrakeDashboard();
        builder.Services.AddKeyBrakeSecrets(builder.Configuration);
        builder.Services.AddKeyBrakeVendors();
        builder.Services.AddKeyBrakeSpend();
        builder.Services.AddKeyBrakeAudit();
        builder.Services.AddKeyBrakeProxy();
        builder.AddKeyBrakeTelemetry();
        return builder;
    }

    public static WebApplication MapKeyBrake(this WebApplication app)
    {
        // Configuration first, every error at once (exit 2), before anything is written; the start-up work itself
        // (data directory, migrations, audit log, bootstrap principal) is KeyBrakeStartup's, as the host starts.
        _ = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<KeyBrakeOptions>>().Value;
        ListenerBinding.ThrowIfAnyUnbindable(app.Configuration); // SPEC §2

        app.WithoutAuthenticationMiddleware();
        app.UseMiddleware<ListenerGateMiddleware>();
        app.UseMiddleware<AuditUnavailableHandling>(); // admin listener only: the API's and the dashboard's 503 audit_unavailable
        app.UseRouting(); // explicitly after the gate: routes are matched on the path the gate admitted (and rewrote for vendor ports)
        app.MapKeyBrakeAdmin();
        app.MapKeyBrakeKeys();
        app.MapKeyBrakeAudit();
        app.MapKeyBrakeDashboard();
        app.MapKeyBrakeProxy();
        return app;
    }
}

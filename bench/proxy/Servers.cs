using System.Text;
using KeyBrake.Proxy;
using Yarp.ReverseProxy.Configuration;

namespace KeyBrake.Bench;

/// <summary>
/// The processes measured. Each exposes <c>GET /__bench/allocated</c> (bytes allocated by the process so far) so the
/// driver can report allocation per request; CPU and RSS it reads from /proc.
/// </summary>
internal static class Servers
{
    /// <summary>The stub vendor: a fixed ~1 KB JSON body with Content-Length, whatever the request.</summary>
    public static async Task<int> StubAsync(string port)
    {
        var body = Encoding.UTF8.GetBytes("{\"id\":\"pi_3Nbench000000000000000000\",\"object\":\"payment_intent\",\"amount\":100,\"currency\":\"usd\",\"status\":\"requires_payment_method\",\"metadata\":{},\"padding\":\"" + new string('x', 860) + "\"}");
        var builder = Bare(port);
        var app = builder.Build();
        MapAllocated(app);
        app.MapFallback(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            context.Response.Headers["Request-Id"] = "req_bench";
            await context.Response.Body.WriteAsync(body);
        });
        await app.RunAsync();
        return 0;
    }

    /// <summary>Y: bare YARP with KeyBrake's Kestrel and YARP settings (route, prefix removal, activity time-out), nothing else.</summary>
    public static async Task<int> YarpAsync(string port, string upstream)
    {
        var builder = Bare(port);
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig
            {
                RouteId = "stripe",
                ClusterId = "stripe",
                Match = new RouteMatch { Path = "/stripe/{**path}" },
                Transforms = [new Dictionary<string, string> { ["PathRemovePrefix"] = "/stripe" }],
            }],
            [new ClusterConfig
            {
                ClusterId = "stripe",
                HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(100) },
                Destinations = new Dictionary<string, DestinationConfig> { ["upstream"] = new() { Address = upstream } },
            }]);
        var app = builder.Build();
        MapAllocated(app);
        app.MapReverseProxy();
        await app.RunAsync();
        return 0;
    }

    /// <summary>
    /// G (as shipped: repository appsettings.json, audit durable before forwarding, spend on) or G0 (no-op audit trail);
    /// on SQLite, or on the PostgreSQL database <paramref name="postgres"/> (a replica: every replica of one database is
    /// given the same <paramref name="signingKeyFile"/>, as Key Vault would give it).
    /// </summary>
    public static async Task<int> KeyBrakeAsync(string port, string adminPort, string upstream, string data, bool noAudit,
        string? postgres = null, string? signingKeyFile = null)
    {
        var root = Driver.RepositoryRoot();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = root, EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Proxy:Url"] = $"http://127.0.0.1:{port}",
            ["Kestrel:Endpoints:Admin:Url"] = $"http://127.0.0.1:{adminPort}",
            // Every arm its own directory (signing key, checkpoints.ndjson, key ring), whatever a build's default for it.
            ["KeyBrake:DataDirectory"] = data,
            ["KeyBrake:Storage:Sqlite:Path"] = Path.Combine(data, "keybrake.db"),
            ["KeyBrake:Vendors:stripe:Upstream"] = upstream,
            ["KeyBrake:Secrets:Local:stripe-api-key"] = "sk_test_bench_secret",
            ["KeyBrake:Admin:BootstrapToken"] = Driver.AdminToken,
        });
        if (postgres is not null)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["KeyBrake:Storage:Provider"] = "Postgres",
                ["KeyBrake:Storage:Postgres:ConnectionString"] = postgres,
                ["KeyBrake:Secrets:Local:audit-signing-key"] = File.ReadAllText(signingKeyFile ?? throw new ArgumentException("--signing-key is required with --postgres")),
            });
        }
        if (noAudit)
        {
            builder.Services.AddSingleton<IProxyAuditTrail, NoProxyAuditTrail>(); // before AddKeyBrake: its TryAdd keeps this one
        }
        builder.AddKeyBrake();
        var app = builder.Build();
        app.MapKeyBrake();
        MapAllocated(app);
        await app.RunAsync();
        return 0;
    }

    private static WebApplicationBuilder Bare(string port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        // Not KeyBrake's appsettings.json (copied beside this build): no Kestrel endpoints from it.
        foreach (var json in builder.Configuration.Sources.OfType<Microsoft.Extensions.Configuration.Json.JsonConfigurationSource>().ToList())
        {
            builder.Configuration.Sources.Remove(json);
        }
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        return builder;
    }

    private static AllocationSampler? s_sampler;

    private static void MapAllocated(WebApplication app)
    {
        app.MapGet("/__bench/allocated", () => Results.Text(GC.GetTotalAllocatedBytes(precise: true).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (Environment.GetEnvironmentVariable("KB_ALLOC_PROFILE") == "1")
        {
            s_sampler = new AllocationSampler();
            app.MapGet("/__bench/allocations", () => Results.Text(s_sampler.Report()));
        }
    }
}

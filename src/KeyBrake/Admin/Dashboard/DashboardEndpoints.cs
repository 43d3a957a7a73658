using System.Reflection;
using Microsoft.AspNetCore.DataProtection;
using KeyBrake.Storage;
using KeyBrake.Access;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace KeyBrake.Admin.Dashboard;

/// <summary>
/// The dashboard on the admin listener: server-rendered Razor Pages (no front-end build), one small script for the
/// live tail and confirmations, served from this assembly. Sign-in with a principal token; every action obeys roles.
/// </summary>
internal static class DashboardEndpoints
{
    public static IServiceCollection AddKeyBrakeDashboard(this IServiceCollection services)
    {
        services.AddRazorPages(options =>
        {
            options.RootDirectory = "/Admin/Dashboard";
            options.Conventions.ConfigureFilter(new DashboardPageFilter());
        }).AddApplicationPart(typeof(DashboardEndpoints).Assembly); // also when another assembly hosts KeyBrake (the tests)
        // Session cookies and antiforgery tokens survive a restart: the Data Protection key ring lives in DataDirectory,
        // or in the shared database when the engine keeps one there (every replica signs in alike, SPEC §9).
        services.AddDataProtection().SetApplicationName("KeyBrake");
        services.AddOptions<KeyManagementOptions>().Configure<DataDirectory, ILoggerFactory, IServiceProvider>((options, dataDirectory, loggers, sp) =>
            options.XmlRepository = sp.GetService<IKeyRingStore>() is { } shared
                ? new KeyRingXmlRepository(shared)
                : new FileSystemXmlRepository(KeysDirectory(dataDirectory.File(DataDirectory.KeyRingDirectory)), loggers));
        services.AddSingleton<DashboardSession>();
        return services;
    }

    /// <summary>{DataDirectory}/dataprotection-keys, owner-only like every file there (the keys are not encrypted at rest).</summary>
    private static DirectoryInfo KeysDirectory(string path) =>
        OperatingSystem.IsWindows()
            ? Directory.CreateDirectory(path)
            : Directory.CreateDirectory(path, DataDirectory.DirectoryMode);

    /// <summary>
    /// Razor Pages bring ASP.NET Core's authentication and authorization services, and WebApplication then puts their
    /// middleware in front of every request, proxy traffic included (measured by bench/run.sh: a DI scope lookup and
    /// allocations per proxied call). The dashboard signs in with its own session (<see cref="DashboardPageFilter"/>)
    /// and no endpoint carries [Authorize], so neither has work here: mark them as placed, with the keys their
    /// UseAuthentication / UseAuthorization set, so WebApplication does not add them.
    /// </summary>
    public static WebApplication WithoutAuthenticationMiddleware(this WebApplication app)
    {
        var properties = ((IApplicationBuilder)app).Properties;
        properties["__AuthenticationMiddlewareSet"] = true;
        properties["__AuthorizationMiddlewareSet"] = true;
        return app;
    }

    public static IEndpointRouteBuilder MapKeyBrakeDashboard(this IEndpointRouteBuilder app)
    {
        app.MapRazorPages();
        MapAsset(app, "/dashboard.js", "text/javascript; charset=utf-8");
        MapAsset(app, "/dashboard.css", "text/css; charset=utf-8");
        return app;
    }

    private static void MapAsset(IEndpointRouteBuilder app, string path, string contentType)
    {
        var name = "KeyBrake.Admin.Dashboard." + path.TrimStart('/');
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded resource {name} is missing.");
        using var reader = new StreamReader(stream);
        var content = reader.ReadToEnd();
        app.MapGet(path, (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-cache";
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return Results.Text(content, contentType);
        }).AdminListenerOnly();
    }
}

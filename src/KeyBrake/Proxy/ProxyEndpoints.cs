using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace KeyBrake.Proxy;

internal static class ProxyEndpoints
{
    /// <summary>One YARP route and cluster per configured vendor: <c>/{vendor}/{**path}</c> → upstream, prefix removed.</summary>
    public static IServiceCollection AddKeyBrakeProxy(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IProxyAuditTrail, NoProxyAuditTrail>();
        var vendors = configuration.GetSection($"{KeyBrakeOptions.Section}:Vendors").GetChildren().ToList();
        // An unparsable value is reported by the options validator at start; the fallback only lets it get there.
        var timeout = Duration.TryParseConfig(configuration[$"{KeyBrakeOptions.Section}:Proxy:UpstreamTimeout"] ?? "100s", out var t) && t > TimeSpan.Zero
            ? t
            : TimeSpan.FromSeconds(100);
        services.AddReverseProxy()
            .LoadFromMemory(
                [.. vendors.Select(v => new RouteConfig
                {
                    RouteId = v.Key,
                    ClusterId = v.Key,
                    Match = new RouteMatch { Path = $"/{v.Key}/{{**path}}" },
                    Transforms = [new Dictionary<string, string> { ["PathRemovePrefix"] = "/" + v.Key }],
                })],
                [.. vendors.Select(v => new ClusterConfig
                {
                    ClusterId = v.Key,
                    HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { ActivityTimeout = timeout },
                    Destinations = new Dictionary<string, DestinationConfig>
                    {
                        ["upstream"] = new() { Address = v["Upstream"] ?? "https://invalid.example" },
                    },
                })])
            .AddTransforms<VendorCredentialTransform>();
        return services;
    }

    public static IEndpointRouteBuilder MapKeyBrakeProxy(this IEndpointRouteBuilder app)
    {
        _ = app.ServiceProvider.GetRequiredService<IOptions<KeyBrakeOptions>>().Value; // validate before serving
        app.MapReverseProxy(pipeline =>
        {
            pipeline.UseMiddleware<ProxyPolicyMiddleware>();
            pipeline.UseLoadBalancing();
        });
        return app;
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace KeyBrake.Proxy;

internal static class ProxyEndpoints
{
    /// <summary>One YARP route and cluster per configured vendor: <c>/{vendor}/{**path}</c> → upstream, prefix removed.</summary>
    public static IServiceCollection AddKeyBrakeProxy(this IServiceCollection services)
    {
        // Built from the validated options when YARP first asks, so bad configuration fails validation, not here.
        services.AddSingleton<IProxyConfigProvider>(sp => FromOptions(sp.GetRequiredService<IOptions<KeyBrakeOptions>>().Value));
        services.AddReverseProxy().AddTransforms<VendorCredentialTransform>();
        services.AddSingleton<Telemetry.AnonymousRefusals>();
        services.AddSingleton<InFlightBodyBudget>();
        services.TryAddSingleton<IProxyAuditTrail, ProxyAuditTrail>(); // TryAdd: bench/ puts its own first
        services.AddSingleton<RequestBodyReader>();
        services.AddSingleton<IForwarderHttpClientFactory, VendorHttpClientFactory>();
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

    private static InMemoryConfigProvider FromOptions(KeyBrakeOptions options)
    {
        return new InMemoryConfigProvider(
            [.. options.Vendors.Keys.Select(vendor => new RouteConfig
            {
                RouteId = vendor,
                ClusterId = vendor,
                Match = new RouteMatch { Path = $"/{vendor}/{{**path}}" },
                Transforms = [new Dictionary<string, string> { ["PathRemovePrefix"] = "/" + vendor }],
            })],
            [.. options.Vendors.Select(vendor => new ClusterConfig
            {
                ClusterId = vendor.Key,
                HttpRequest = new ForwarderRequestConfig
                {
                    ActivityTimeout = vendor.Value.ResponseTimeout ?? options.Proxy.UpstreamTimeout,
                },
                Destinations = new Dictionary<string, DestinationConfig> { ["upstream"] = new() { Address = vendor.Value.Upstream! } },
            })]);
    }
}

/// <summary>YARP's upstream handler, with each vendor's <c>ConnectTimeout</c> (the cluster id is the vendor name).</summary>
internal sealed class VendorHttpClientFactory(IOptions<KeyBrakeOptions> options) : ForwarderHttpClientFactory
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        if (options.Value.Vendors.TryGetValue(context.ClusterId, out var vendor))
        {
            handler.ConnectTimeout = vendor.ConnectTimeout;
        }
    }
}

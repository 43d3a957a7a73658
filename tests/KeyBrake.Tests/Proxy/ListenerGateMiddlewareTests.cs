using System.Text.Json;
using KeyBrake.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KeyBrake.Tests.Proxy;

public sealed class ListenerGateMiddlewareTests
{
    private const int ProxyPort = 18080, AdminPort = 18081, StripePort = 18090;

    private static readonly IConfiguration Configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Kestrel:Endpoints:Proxy:Url"] = $"http://127.0.0.1:{ProxyPort}",
        ["Kestrel:Endpoints:Admin:Url"] = $"http://127.0.0.1:{AdminPort}",
        ["KeyBrake:Vendors:stripe:Port"] = StripePort.ToString(),
    }).Build();

    private readonly ListenerGateMiddleware _gate;
    private HttpContext? _passed;

    public ListenerGateMiddlewareTests()
    {
        var options = new KeyBrakeOptions
        {
            Vendors = new(StringComparer.Ordinal) { ["stripe"] = new VendorOptions(), ["twilio"] = new VendorOptions() },
            Proxy = new ProxyOptions { MaxBodyBytes = 100 },
        };
        _gate = new ListenerGateMiddleware(
            context => { _passed = context; return Task.CompletedTask; },
            ListenerMap.FromConfiguration(Configuration), Options.Create(options), TimeProvider.System,
            NullLogger<ListenerGateMiddleware>.Instance);
    }

    [Theory]
    [InlineData("/stripe/v1/customers/../charges", 400, "non_canonical_path")]
    [InlineData("/stripe/v1/%2e%2e/charges", 400, "non_canonical_path")]
    [InlineData("/stripe/v1/x%2Fy", 400, "non_canonical_path")]
    [InlineData("/stripe/v1/x/", 400, "non_canonical_path")]
    [InlineData("/Stripe/v1/x", 404, "unknown_vendor")]
    [InlineData("/v1/keys", 404, "unknown_vendor")]
    [InlineData("*", 404, "unknown_vendor")]
    public async Task Proxy_RawTargetRefused_BeforeRouting(string rawTarget, int status, string code)
    {
        var context = Context(ProxyPort, rawTarget);

        await _gate.InvokeAsync(context);

        Assert.Null(_passed);
        Assert.Equal(status, context.Response.StatusCode);
        Assert.Equal(code, ErrorCode(context));
        Assert.StartsWith("req_", context.Response.Headers["X-KeyBrake-Request-Id"].ToString());
    }

    [Fact]
    public async Task Proxy_CanonicalTarget_PassesWithTheCallFeature()
    {
        var context = Context(ProxyPort, "/stripe/v1/customers/cus_1?expand[]=x%2F");

        await _gate.InvokeAsync(context);

        var call = Assert.IsType<ProxyCall>(_passed!.Features.Get<ProxyCall>());
        Assert.Equal(("stripe", "/v1/customers/cus_1"), (call.Vendor, call.Path));
    }

    [Fact]
    public async Task Proxy_MethodOverrideHeader_Is400()
    {
        var context = Context(ProxyPort, "/stripe/v1/customers/cus_1");
        context.Request.Headers["X-HTTP-Method-Override"] = "DELETE";

        await _gate.InvokeAsync(context);

        Assert.Null(_passed);
        Assert.Equal("method_override_not_allowed", ErrorCode(context));
    }

    [Fact]
    public async Task Proxy_DeclaredBodyOverTheLimit_Is413()
    {
        var context = Context(ProxyPort, "/stripe/v1/customers/cus_1");
        context.Request.ContentLength = 101;

        await _gate.InvokeAsync(context);

        Assert.Null(_passed);
        Assert.Equal(413, context.Response.StatusCode);
        Assert.Equal("body_too_large", ErrorCode(context));
    }

    [Fact]
    public async Task VendorPort_UnprefixedPath_IsRoutedAsThatVendor()
    {
        var context = Context(StripePort, "/v1/customers/cus_1");

        await _gate.InvokeAsync(context);

        Assert.Equal("/stripe/v1/customers/cus_1", _passed!.Request.Path.Value);
        Assert.Equal("/v1/customers/cus_1", _passed.Features.Get<ProxyCall>()!.Path);
    }

    [Fact]
    public async Task Admin_VendorPath_Is404_AndAdminPathsPass()
    {
        var vendorPath = Context(AdminPort, "/stripe/v1/customers/cus_1");
        await _gate.InvokeAsync(vendorPath);
        Assert.Null(_passed);
        Assert.Equal(404, vendorPath.Response.StatusCode);

        await _gate.InvokeAsync(Context(AdminPort, "/v1/keys"));
        Assert.NotNull(_passed);
        Assert.Null(_passed.Features.Get<ProxyCall>());
    }

    [Fact]
    public async Task UnknownListener_Is404()
    {
        var context = Context(9, "/stripe/v1/customers/cus_1");
        await _gate.InvokeAsync(context);
        Assert.Null(_passed);
        Assert.Equal(404, context.Response.StatusCode);
    }

    private static DefaultHttpContext Context(int localPort, string rawTarget)
    {
        var context = new DefaultHttpContext();
        context.Connection.LocalPort = localPort;
        var query = rawTarget.IndexOf('?', StringComparison.Ordinal);
        context.Request.Path = rawTarget.StartsWith('/') ? (query < 0 ? rawTarget : rawTarget[..query]) : "";
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        context.Response.Body = new MemoryStream();
        return context;
    }

    private static string? ErrorCode(HttpContext context)
    {
        context.Response.Body.Position = 0;
        using var json = JsonDocument.Parse(context.Response.Body);
        return json.RootElement.GetProperty("error").GetProperty("code").GetString();
    }
}

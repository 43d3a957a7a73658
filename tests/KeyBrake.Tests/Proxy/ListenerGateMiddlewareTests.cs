using System.Text.Json;
using KeyBrake.Keys;
using KeyBrake.Policy;
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
    private readonly RecordingAuditTrail _audit = new();
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
            ListenerMap.FromConfiguration(Configuration), new KeyLookup(new OneKeyStore(Key), new RefusedKeys(TimeProvider.System), new InProcessKeyChangeFeed()), _audit,
            new KeyBrake.Telemetry.AnonymousRefusals(TimeProvider.System, NullLogger<KeyBrake.Telemetry.AnonymousRefusals>.Instance),
            Options.Create(options), TimeProvider.System, NullLogger<ListenerGateMiddleware>.Instance);
    }

    [Theory]
    [InlineData("/stripe/v1/customers/../charges", 400, "non_canonical_path")]
    [InlineData("/stripe/v1/%2e%2e/charges", 400, "non_canonical_path")]
    [InlineData("/stripe/v1/x%2Fy", 400, "non_canonical_path")]
    [InlineData("/stripe/v1/x/", 400, "non_canonical_path")]
    [InlineData("/stripe/v1/customers/..;/charges", 400, "non_canonical_path")]
    [InlineData("/stripe/v1/customers/cus_1;a=b", 400, "non_canonical_path")]
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
    public async Task Proxy_RefusalWithAKnownToken_IsAuditedAgainstItsKey()
    {
        var context = Context(ProxyPort, "/stripe/v1/customers/../charges");
        context.Request.Headers.Authorization = "Bearer " + Token;
        context.Request.Headers["X-KeyBrake-Reason"] = "probing";

        await _gate.InvokeAsync(context);

        var (call, error) = Assert.Single(_audit.Denied);
        Assert.Equal(("key_1", "non_canonical_path", "/v1/customers/../charges", "probing"), (call.Key?.Id, error.Code, call.Path, call.Reason));
        Assert.Equal("non_canonical_path", ErrorCode(context));
    }

    [Fact]
    public async Task Proxy_RefusalWithAnUnknownTokenOrNone_IsNotAudited()
    {
        var unknown = Context(ProxyPort, "/stripe/v1/customers/cus_1");
        unknown.Request.Headers.Authorization = "Bearer vk_unknown";
        unknown.Request.Headers["X-HTTP-Method"] = "DELETE";
        await _gate.InvokeAsync(unknown);

        var anonymous = Context(ProxyPort, "/stripe/v1/customers/cus_1");
        anonymous.Request.Headers["X-HTTP-Method"] = "DELETE";
        await _gate.InvokeAsync(anonymous);

        Assert.Empty(_audit.Denied);
        Assert.Equal("method_override_not_allowed", ErrorCode(unknown));
        Assert.Equal("method_override_not_allowed", ErrorCode(anonymous));
    }

    [Theory]
    [InlineData("Post")]
    [InlineData("post")]
    [InlineData("pOST")]
    [InlineData("Get")]
    [InlineData("TRACE")]
    [InlineData("PROPFIND")]
    [InlineData("")]
    public async Task Proxy_NonCanonicalMethod_Is400BeforeTheTokenStep_AndAuditedForAKnownKey(string method)
    {
        var context = Context(ProxyPort, "/stripe/v1/customers/cus_1");
        context.Request.Method = method;
        context.Request.Headers.Authorization = "Bearer " + Token;

        await _gate.InvokeAsync(context);

        Assert.Null(_passed);
        Assert.Equal(400, context.Response.StatusCode);
        Assert.Equal("non_canonical_method", ErrorCode(context));
        var (call, error) = Assert.Single(_audit.Denied);
        Assert.Equal(("key_1", "non_canonical_method"), (call.Key?.Id, error.Code));
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    public async Task Proxy_CanonicalMethod_Passes(string method)
    {
        var context = Context(ProxyPort, "/stripe/v1/customers/cus_1");
        context.Request.Method = method;

        await _gate.InvokeAsync(context);

        Assert.NotNull(_passed);
    }

    [Theory]
    [InlineData(ProxyPort, "/stripe", 2048, null)]
    [InlineData(ProxyPort, "/stripe", 2049, "uri_too_long")]
    [InlineData(StripePort, "", 2048, null)]
    [InlineData(StripePort, "", 2049, "uri_too_long")]
    public async Task Proxy_TargetAfterTheVendorPrefix_CountsItsQueryString_AndOver2048Is414(int port, string prefix, int length, string? code)
    {
        const string path = "/v1/customers/cus_1?q=";
        var context = Context(port, prefix + path + new string('x', length - path.Length));

        await _gate.InvokeAsync(context);

        if (code is null)
        {
            Assert.NotNull(_passed);
            return;
        }
        Assert.Null(_passed);
        Assert.Equal(414, context.Response.StatusCode);
        Assert.Equal(code, ErrorCode(context));
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

    private const string Token = "vk_gate_test_token";

    private static readonly VaultKey Key = new()
    {
        Id = "key_1", TokenHash = VaultToken.Hash(Token), Label = "run-1", Vendor = "stripe",
        Endpoints = EndpointPolicy.FromValidated(["GET /v1/customers/*"]), DailyCapMicros = 0,
        ExpiresAt = DateTimeOffset.MaxValue, CreatedAt = DateTimeOffset.UnixEpoch, CreatedBy = "test", MetadataJson = "{}", PolicyHash = "h",
    };

    private sealed class OneKeyStore(VaultKey key) : IKeyStore
    {
        public Task<VaultKey?> FindByTokenHashAsync(string tokenHash, CancellationToken cancellationToken) =>
            Task.FromResult(tokenHash == key.TokenHash ? key : null);

        public Task InsertAsync(VaultKey key, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<VaultKey?> FindByIdAsync(string id, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<VaultKey>> ListAsync(KeyQuery query, DateTimeOffset now, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<bool> UpdatePolicyAsync(VaultKey updated, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<VaultKey>> RevokeAsync(KeyRevocation revocation, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<IReadOnlyList<VaultKey>> ListUnrecordedExpiriesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task MarkExpiryRecordedAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private sealed class RecordingAuditTrail : IProxyAuditTrail
    {
        public List<(ProxyCall Call, KeyBrakeError Error)> Denied { get; } = [];

        public ValueTask<KeyBrake.Audit.AppendResult> RecordRequestAsync(HttpContext context, ProxyCall call, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask RecordResponseAsync(HttpContext context, ProxyCall call, KeyBrake.Spend.MicroUsd settled, string outcome) => throw new NotSupportedException();

        public ValueTask RecordDeniedAsync(HttpContext context, ProxyCall call, KeyBrakeError error)
        {
            Denied.Add((call, error));
            return ValueTask.CompletedTask;
        }
    }

    private static DefaultHttpContext Context(int localPort, string rawTarget)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
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

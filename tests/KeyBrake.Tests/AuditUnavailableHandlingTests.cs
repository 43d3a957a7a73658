using System.Text;
using System.Text.Json;
using KeyBrake.Audit;
using KeyBrake.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Logging.Abstractions;

namespace KeyBrake.Tests;

public sealed class AuditUnavailableHandlingTests
{
    private const int ProxyPort = 18080, AdminPort = 18081;

    private static readonly ListenerMap Listeners = ListenerMap.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Kestrel:Endpoints:Proxy:Url"] = $"http://127.0.0.1:{ProxyPort}",
        ["Kestrel:Endpoints:Admin:Url"] = $"http://127.0.0.1:{AdminPort}",
    }).Build());

    [Fact]
    public async Task InvokeAsync_ApiEndpointThrows_Is503AuditUnavailableJson_Retryable_NoStore()
    {
        var context = Context(AdminPort, new Endpoint(null, EndpointMetadataCollection.Empty, "PATCH /v1/keys/{id}"));

        await CreateSut(Throw(new AuditUnavailableException("The audit log is failing (disk I/O error); the policy was not changed."))).InvokeAsync(context);

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("application/json", context.Response.ContentType);
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        using var body = JsonDocument.Parse(Body(context));
        var error = body.RootElement.GetProperty("error");
        Assert.Equal(("keybrake_error", "audit_unavailable", true), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString(), error.GetProperty("retryable").GetBoolean()));
        Assert.Equal("The audit log is failing (disk I/O error); the policy was not changed.", error.GetProperty("message").GetString());
        Assert.Equal(("audit_unavailable", error.GetProperty("message").GetString()), (body.RootElement.GetProperty("code").GetString(), body.RootElement.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task InvokeAsync_DashboardPageThrows_Is503HtmlPage_MessageEncoded()
    {
        var context = Context(AdminPort, new Endpoint(null, new EndpointMetadataCollection(new PageActionDescriptor()), "/Index"));

        await CreateSut(Throw(new AuditUnavailableException("queue full <script>alert(1)</script>"))).InvokeAsync(context);

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", context.Response.ContentType);
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        var html = Body(context);
        Assert.Contains("503 audit_unavailable: the audit log is unavailable", html, StringComparison.Ordinal);
        Assert.Contains("queue full &lt;script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(html), context.Response.ContentLength);
    }

    [Fact]
    public async Task InvokeAsync_OnTheProxyListener_PassesStraightThrough_TheProxyStepAnswersItself()
    {
        var context = Context(ProxyPort, endpoint: null);

        await Assert.ThrowsAsync<AuditUnavailableException>(() => CreateSut(Throw(new AuditUnavailableException("x"))).InvokeAsync(context));
    }

    [Fact]
    public async Task InvokeAsync_ResponseAlreadyStarted_Rethrows()
    {
        var context = Context(AdminPort, endpoint: null);
        context.Features.Set<IHttpResponseFeature>(new StartedResponse());

        await Assert.ThrowsAsync<AuditUnavailableException>(() => CreateSut(Throw(new AuditUnavailableException("x"))).InvokeAsync(context));
    }

    [Fact]
    public async Task InvokeAsync_OtherExceptions_AreNotItsBusiness()
    {
        var context = Context(AdminPort, endpoint: null);

        await Assert.ThrowsAsync<InvalidOperationException>(() => CreateSut(Throw(new InvalidOperationException("x"))).InvokeAsync(context));
        Assert.Equal(200, context.Response.StatusCode);
    }

    [Fact]
    public async Task InvokeAsync_NoException_LeavesTheResponseAlone()
    {
        var context = Context(AdminPort, endpoint: null);

        await CreateSut(c => { c.Response.StatusCode = 204; return Task.CompletedTask; }).InvokeAsync(context);

        Assert.Equal(204, context.Response.StatusCode);
        Assert.Equal(0, context.Response.Body.Length);
    }

    private static AuditUnavailableHandling CreateSut(RequestDelegate next) =>
        new(next, Listeners, NullLogger<AuditUnavailableHandling>.Instance);

    private static RequestDelegate Throw(Exception e) => _ => throw e;

    private static DefaultHttpContext Context(int localPort, Endpoint? endpoint)
    {
        var context = new DefaultHttpContext();
        context.Connection.LocalPort = localPort;
        context.Response.Body = new MemoryStream();
        context.SetEndpoint(endpoint);
        return context;
    }

    private static string Body(HttpContext context) => Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());

    private sealed class StartedResponse : HttpResponseFeature
    {
        public override bool HasStarted => true;
    }
}

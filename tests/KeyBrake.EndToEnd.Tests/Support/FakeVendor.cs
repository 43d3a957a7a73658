using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>An upstream stand-in on loopback that records every request it receives and answers like the vendor.</summary>
internal sealed class FakeVendor : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();

    private FakeVendor(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    /// <summary>Answers a request; the default echoes a vendor-shaped JSON object.</summary>
    public Func<ReceivedRequest, (int Status, string Json, Dictionary<string, string>? Headers)> Respond { get; set; } = DefaultResponse;

    public static async Task<FakeVendor> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        // Not KeyBrake's appsettings.json (it sits in the test output): only this listener.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = $"http://127.0.0.1:{port}" });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeVendor? vendor = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var request = new ReceivedRequest(
                context.Request.Method,
                context.Request.Path.Value ?? "",
                context.Request.QueryString.Value ?? "",
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body);
            vendor!._received.Enqueue(request);
            if (vendor.ResetConnections)
            {
                context.Abort(); // a TCP reset after the request arrived: it may or may not have been executed
                return;
            }
            if (vendor.Delay > TimeSpan.Zero)
            {
                await Task.Delay(vendor.Delay, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            var (status, json, headers) = vendor.Respond(request);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            foreach (var (name, value) in headers ?? [])
            {
                context.Response.Headers[name] = value;
            }
            await context.Response.WriteAsync(json);
        });
        vendor = new FakeVendor(app, port);
        await app.StartAsync();
        return vendor;
    }

    /// <summary>How long the vendor waits before answering (a hanging vendor, for time-outs).</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>When set, the connection is reset once a request has been received, with no answer.</summary>
    public bool ResetConnections { get; set; }

    public void Clear() => _received.Clear();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static (int, string, Dictionary<string, string>?) DefaultResponse(ReceivedRequest request)
    {
        var headers = new Dictionary<string, string> { ["Request-Id"] = "req_vendor_" + Guid.NewGuid().ToString("N")[..12] };
        if (request.Path.StartsWith("/v1/payment_intents", StringComparison.Ordinal))
        {
            return (200, """{"id":"pi_123","object":"payment_intent","amount":500,"currency":"usd","status":"requires_payment_method"}""", headers);
        }
        if (request.Path.StartsWith("/v1/customers", StringComparison.Ordinal))
        {
            return (200, """{"id":"cus_123","object":"customer","email":"a@example.com"}""", headers);
        }
        if (request.Path.Contains("/Messages.json", StringComparison.Ordinal))
        {
            return (201, """{"sid":"SM123","account_sid":"AC123","status":"queued","body":"hi","to":"+15555550100","from":"+15555550199","num_segments":"1","price":null,"price_unit":"USD"}""",
                new Dictionary<string, string> { ["Twilio-Request-Id"] = "RQ" + Guid.NewGuid().ToString("N") });
        }
        if (request.Path.StartsWith("/emails", StringComparison.Ordinal))
        {
            return (200, """{"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}""", null);
        }
        return (200, """{"ok":true}""", headers);
    }
}

internal sealed record ReceivedRequest(string Method, string Path, string Query, Dictionary<string, string> Headers, string Body);

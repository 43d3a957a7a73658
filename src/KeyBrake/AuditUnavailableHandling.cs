using System.Text;
using System.Text.Encodings.Web;
using KeyBrake.Audit;
using KeyBrake.Proxy;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace KeyBrake;

/// <summary>
/// The one place where an <see cref="AuditUnavailableException"/> becomes a response on the admin listener: 503
/// <c>audit_unavailable</c>, retryable (SPEC §4). The admin API gets SPEC's JSON error; a dashboard page gets an HTML
/// page that says the same. The exception comes from admin changes that need their entry first (<c>key.created</c>)
/// or must not go on while the writer fails (<c>key.updated</c>), and from those applied whose entry is still queued
/// (<c>principal.*</c>). Revocations never throw it: they never wait on the audit log (SPEC §3). A store that cannot be
/// reached (a <see cref="System.Data.Common.DbException"/> from a database server, SPEC §9) or a spend figure the ledger
/// cannot stand by (<see cref="Spend.SpendUnavailableException"/>) is answered the same way.
/// Proxy listeners pass straight through with no extra frame: a proxied call's step 8 refusal is answered by its own
/// pipeline step (<see cref="ProxyAuditTrail"/>), which also releases the reservation.
/// </summary>
internal sealed partial class AuditUnavailableHandling(RequestDelegate next, ListenerMap listeners, ILogger<AuditUnavailableHandling> logger)
{
    public const string Code = "audit_unavailable";

    public Task InvokeAsync(HttpContext context) =>
        listeners.KindOf(context.Connection.LocalPort) == ListenerKind.Admin ? GuardAsync(context) : next(context);

    private async Task GuardAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when ((e is AuditUnavailableException || Spend.SpendUnavailableException.IsStoreFailure(e)) && !context.Response.HasStarted)
        {
            Log.Refused(logger, RequestIds.Of(context), context.Request.Method, context.Request.Path.Value ?? "", e.Message);
            if (context.GetEndpoint()?.Metadata.GetMetadata<PageActionDescriptor>() is not null)
            {
                await WritePageAsync(context, e.Message);
            }
            else
            {
                await new KeyBrakeError(StatusCodes.Status503ServiceUnavailable, Code, e.Message).WriteAsync(context);
            }
        }
    }

    /// <summary>
    /// The dashboard's answer: a page, not JSON, with the same status and code the API uses. The page filter has
    /// already set the dashboard's security headers (CSP, frame denial); this page needs nothing they forbid.
    /// </summary>
    private static async Task WritePageAsync(HttpContext context, string message)
    {
        var html = Encoding.UTF8.GetBytes($$"""
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><title>503 audit log unavailable - KeyBrake</title><link rel="stylesheet" href="/dashboard.css"></head>
            <body><main>
            <h1>503 {{Code}}: the audit log is unavailable</h1>
            <p class="error">{{HtmlEncoder.Default.Encode(message)}}</p>
            <p>Nothing that needs an audit entry is done without one. Try again once <a href="/readyz">/readyz</a> answers ready; revocations keep working meanwhile.</p>
            <p><a href="/">Back to the keys</a></p>
            </main></body>
            </html>
            """);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = html.Length;
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        await response.Body.WriteAsync(html, context.RequestAborted);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Request {RequestId} ({Method} {Path}) answered 503 audit_unavailable: {Problem}")]
        public static partial void Refused(ILogger logger, string requestId, string method, string path, string problem);
    }
}

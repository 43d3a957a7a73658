using KeyBrake.Keys;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace KeyBrake.Proxy;

/// <summary>
/// First in the pipeline, before routing. Gives every request its id, keeps admin routes off the proxy listeners
/// and proxy routes off the admin listener, and runs SPEC §4 steps 1–2 on the raw request target: the server
/// decodes and removes dot segments before routing, so anything checked after routing could be smuggled past.
/// </summary>
internal sealed partial class ListenerGateMiddleware(
    RequestDelegate next,
    ListenerMap listeners,
    KeyLookup keys,
    IProxyAuditTrail audit,
    IOptions<KeyBrakeOptions> options,
    TimeProvider time,
    ILogger<ListenerGateMiddleware> logger)
{
    private static readonly string[] MethodOverrideHeaders = ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"];

    private readonly Dictionary<string, VendorOptions> _vendors = options.Value.Vendors;
    private readonly long _maxBodyBytes = options.Value.Proxy.MaxBodyBytes;

    public Task InvokeAsync(HttpContext context)
    {
        var requestId = RequestIds.Assign(context, time);
        var kind = listeners.KindOf(context.Connection.LocalPort, out var portVendor);
        var raw = RawPath(context);
        switch (kind)
        {
            case ListenerKind.Admin:
                if (FirstSegmentVendor(raw) is not null)
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }
                return next(context);
            case ListenerKind.Proxy:
                var vendor = FirstSegmentVendor(raw);
                if (vendor is null)
                {
                    Log.UnknownVendor(logger, requestId, context.Request.Method);
                    Telemetry.KeyBrakeMetrics.Denied("unknown", "unknown_vendor");
                    return new KeyBrakeError(StatusCodes.Status404NotFound, "unknown_vendor",
                        $"The first path segment must name a configured vendor: {string.Join(", ", _vendors.Keys.Select(v => "/" + v + "/"))}.")
                        .WriteAsync(context);
                }
                return Admit(context, vendor, raw[(vendor.Length + 1)..], requestId, prefixPath: false);
            case ListenerKind.VendorPort:
                return Admit(context, portVendor!, raw, requestId, prefixPath: true);
            default:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
        }
    }

    private Task Admit(HttpContext context, string vendor, string path, string requestId, bool prefixPath)
    {
        if (!Policy.CanonicalPath.IsCanonical(path))
        {
            return Deny(context, new ProxyCall(vendor, path, requestId), new KeyBrakeError(StatusCodes.Status400BadRequest, "non_canonical_path",
                "The path must be /-separated segments of [A-Za-z0-9._~!$&'()*+,;=:@-]: no empty, '.' or '..' segment, no '%', no backslash."));
        }
        foreach (var header in MethodOverrideHeaders)
        {
            if (context.Request.Headers.ContainsKey(header))
            {
                return Deny(context, new ProxyCall(vendor, path, requestId), new KeyBrakeError(StatusCodes.Status400BadRequest, "method_override_not_allowed",
                    $"{header} is not accepted: the HTTP method is what the allowlist checks."));
            }
        }
        if (context.Request.ContentLength > _maxBodyBytes)
        {
            return Deny(context, new ProxyCall(vendor, path, requestId), BodyTooLargeError(_maxBodyBytes));
        }
        if (prefixPath)
        {
            context.Request.Path = "/" + vendor + context.Request.Path; // route as /{vendor}/{path}
        }
        context.Features.Set(new ProxyCall(vendor, path, requestId));
        return next(context);
    }

    public static KeyBrakeError BodyTooLargeError(long max) =>
        new(StatusCodes.Status413PayloadTooLarge, "body_too_large", $"The request body is larger than {max} bytes (KeyBrake:Proxy:MaxBodyBytes).");

    /// <summary>
    /// A refusal before routing. SPEC §4: a denial is an audit entry when the request carries a token (attributed
    /// to its key when the token is known); without a token it is only logged.
    /// </summary>
    private Task Deny(HttpContext context, ProxyCall call, KeyBrakeError error)
    {
        Log.Refused(logger, call.RequestId, call.Vendor, error.Code);
        Telemetry.KeyBrakeMetrics.Denied(call.Vendor, error.Code);
        var token = ProxyToken.Read(context.Request.Headers.Authorization);
        return token is null ? error.WriteAsync(context) : DenyWithEntryAsync(context, call, VaultToken.Hash(token), error);
    }

    private async Task DenyWithEntryAsync(HttpContext context, ProxyCall call, string tokenHash, KeyBrakeError error)
    {
        call.Key = await keys.FindAsync(tokenHash, context.RequestAborted);
        var reason = context.Request.Headers[ProxyCall.ReasonHeader].ToString();
        call.Reason = reason.Length is > 0 and <= ProxyCall.MaxReasonLength ? reason : null;
        await audit.RecordDeniedAsync(context, call, error);
        await error.WriteAsync(context);
    }

    private string? FirstSegmentVendor(string raw)
    {
        if (raw.Length < 2 || raw[0] != '/')
        {
            return null;
        }
        var end = raw.IndexOf('/', 1);
        var segment = end < 0 ? raw[1..] : raw[1..end];
        return _vendors.ContainsKey(segment) ? segment : null; // ordinal: /Stripe/ is not /stripe/
    }

    private static string RawPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? raw : raw[..query];
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Request {RequestId} ({Method}) names no configured vendor: 404 unknown_vendor")]
        public static partial void UnknownVendor(ILogger logger, string requestId, string method);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Request {RequestId} to {Vendor} refused before routing: {Code}")]
        public static partial void Refused(ILogger logger, string requestId, string vendor, string code);
    }
}

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
    Telemetry.AnonymousRefusals anonymous,
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
        var target = RawTarget(context);
        switch (kind)
        {
            case ListenerKind.Admin:
                if (FirstSegmentVendor(target) is not null)
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }
                return next(context);
            case ListenerKind.Proxy:
                var vendor = FirstSegmentVendor(target);
                if (vendor is null)
                {
                    // Never chained, never a line per request (SPEC §4): it names no vendor, so it names no key either.
                    anonymous.Refused("unknown", "unknown_vendor");
                    return new KeyBrakeError(StatusCodes.Status404NotFound, "unknown_vendor",
                        $"The first path segment must name a configured vendor: {string.Join(", ", _vendors.Keys.Select(v => "/" + v + "/"))}.")
                        .WriteAsync(context);
                }
                return Admit(context, vendor, target[(vendor.Length + 1)..], requestId, prefixPath: false);
            case ListenerKind.VendorPort:
                return Admit(context, portVendor!, target, requestId, prefixPath: true);
            default:
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
        }
    }

    /// <summary>SPEC §4 step 2 on the raw target after the vendor prefix (query string included).</summary>
    private Task Admit(HttpContext context, string vendor, string target, string requestId, bool prefixPath)
    {
        var query = target.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? target : target[..query];
        // One spelling of the method for every later step: pricing, the allowlist and the audit compare it ordinally,
        // while the forwarder would send any spelling as the standard method (`Post` priced as a read, sent as POST).
        if (!IsCanonicalMethod(context.Request.Method))
        {
            return Deny(context, new ProxyCall(vendor, path, requestId), new KeyBrakeError(StatusCodes.Status400BadRequest, "non_canonical_method",
                "The method must be one of GET POST PUT PATCH DELETE HEAD OPTIONS, in upper case."));
        }
        // The 2,048 characters count the whole target after the vendor prefix, query string included: it is what
        // an audit entry or a vendor log may have to hold.
        if (target.Length > Policy.CanonicalPath.MaxTargetLength)
        {
            return Deny(context, new ProxyCall(vendor, path, requestId), new KeyBrakeError(StatusCodes.Status414UriTooLong, "uri_too_long",
                $"The request target after the vendor prefix is {target.Length} characters; at most {Policy.CanonicalPath.MaxTargetLength} are accepted."));
        }
        if (!Policy.CanonicalPath.IsCanonical(path))
        {
            return Deny(context, new ProxyCall(vendor, path, requestId), new KeyBrakeError(StatusCodes.Status400BadRequest, "non_canonical_path",
                "The path must be /-separated segments of [A-Za-z0-9._~!$&'()*+,=:@-]: no empty, '.' or '..' segment, no ';', no '%', no backslash."));
        }
        foreach (var (header, _) in context.Request.Headers)
        {
            // Any spelling an upstream could read as one of them (X_HTTP_Method_Override): see HeaderSpelling.
            if (HeaderSpelling.IsAny(header, MethodOverrideHeaders))
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

    /// <summary>SPEC §4 step 2: exactly one of the seven, upper case (Kestrel keeps any other spelling as sent).</summary>
    public static bool IsCanonicalMethod(string method) => method is "GET" or "POST" or "PUT" or "PATCH" or "DELETE" or "HEAD" or "OPTIONS";

    public static KeyBrakeError BodyTooLargeError(long max) =>
        new(StatusCodes.Status413PayloadTooLarge, "body_too_large", $"The request body is larger than {max} bytes (KeyBrake:Proxy:MaxBodyBytes).");

    /// <summary>
    /// A refusal before routing. SPEC §4: a <c>proxy.denied</c> entry only when the token belongs to a known key; with
    /// no token or an unknown one it is counted and logged at most once a second, so nobody without a key can make
    /// the audit log grow.
    /// </summary>
    private Task Deny(HttpContext context, ProxyCall call, KeyBrakeError error)
    {
        var token = ProxyToken.Read(context.Request.Headers.Authorization);
        if (token is null)
        {
            anonymous.Refused(call.Vendor, error.Code);
            return error.WriteAsync(context);
        }
        return DenyWithEntryAsync(context, call, VaultToken.Hash(token), error);
    }

    private async Task DenyWithEntryAsync(HttpContext context, ProxyCall call, string tokenHash, KeyBrakeError error)
    {
        call.Key = await keys.FindAsync(tokenHash, context.RequestAborted);
        if (call.Key is null)
        {
            anonymous.Refused(call.Vendor, error.Code);
            await error.WriteAsync(context);
            return;
        }
        Log.Refused(logger, call.RequestId, call.Key.Id, call.Vendor, error.Code);
        Telemetry.KeyBrakeMetrics.Denied(call.Vendor, error.Code);
        var reason = context.Request.Headers[ProxyCall.ReasonHeader].ToString();
        call.Reason = reason.Length is > 0 and <= ProxyCall.MaxReasonLength ? reason : null;
        await audit.RecordDeniedAsync(context, call, error);
        await error.WriteAsync(context);
    }

    private string? FirstSegmentVendor(string target)
    {
        if (target.Length < 2 || target[0] != '/')
        {
            return null;
        }
        var end = target.AsSpan(1).IndexOfAny('/', '?');
        var segment = end < 0 ? target[1..] : target.Substring(1, end);
        return _vendors.ContainsKey(segment) ? segment : null; // ordinal: /Stripe/ is not /stripe/
    }

    private static string RawTarget(HttpContext context) =>
        context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";

    private static partial class Log
    {
        [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Request {RequestId} (key {KeyId}) to {Vendor} refused before routing: {Code}")]
        public static partial void Refused(ILogger logger, string requestId, string keyId, string vendor, string code);
    }
}

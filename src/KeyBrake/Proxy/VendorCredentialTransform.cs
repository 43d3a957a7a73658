using KeyBrake.Vendors;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace KeyBrake.Proxy;

/// <summary>
/// SPEC §4 steps 10–11 as YARP transforms on the outgoing request and the returned response only: the agent's
/// Authorization, Proxy-Authorization, Forwarded, X-Forwarded-*, X-Real-IP, Via and every X-KeyBrake-* header are
/// dropped in any spelling an upstream could read as them (<see cref="HeaderSpelling"/>: <c>X_Forwarded_For</c>), the vendor credential is set, and no X-Forwarded-* of KeyBrake's own is added (the default forwarders are
/// off). The response gets KeyBrake's own X-KeyBrake-* headers (any the upstream sent are dropped), and the vendor
/// secret is scrubbed from its headers, from 3xx/4xx/5xx bodies, and from the 2xx bodies of a vendor whose success
/// responses can carry it (<see cref="SecretScrubber"/>).
/// </summary>
internal sealed partial class VendorCredentialTransform(ILogger<VendorCredentialTransform> logger) : ITransformProvider
{
    public const string RemainingHeader = "X-KeyBrake-Remaining-Usd";

    private const string KeyBrakeHeaderPrefix = "X-KeyBrake-";

    /// <summary>The largest success body read for what only the body states (a request id, a price): a small JSON answer.</summary>
    private const int MaxInspectedBodyBytes = 64 * 1024;

    /// <summary>Set when a success body was withheld because it could not be decoded and checked for the secret.</summary>
    public const string BodyWithheldHeader = "X-KeyBrake-Body-Withheld";

    /// <summary>Where the agent (or whatever is in front of it) says who asked; the vendor learns nothing of the agent's network from KeyBrake.</summary>
    private static readonly string[] ClientHeaders = ["Authorization", "Proxy-Authorization", "Forwarded", "X-Real-IP", "Via"];
    private const string ForwardedHeaderPrefix = "X-Forwarded-";

    /// <summary>The largest 3xx/4xx/5xx body scrubbed; a larger one (decoded) is withheld, since it could not be checked.</summary>
    public const int MaxScrubbedBodyBytes = 1024 * 1024;

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        context.UseDefaultForwarders = false;
        context.AddRequestTransform(static transform =>
        {
            var call = transform.HttpContext.Features.Get<ProxyCall>();
            if (call?.Credential is null)
            {
                // Unreachable through the policy step; fail closed rather than forward without our credential.
                throw new InvalidOperationException("No vendor credential for this call.");
            }
            // Every spelling an upstream may read as one of these (Proxy_Authorization, X_Forwarded_For): HeaderSpelling.
            foreach (var name in transform.HttpContext.Request.Headers.Keys)
            {
                if (HeaderSpelling.IsAny(name, ClientHeaders) || HeaderSpelling.StartsWith(name, KeyBrakeHeaderPrefix) || HeaderSpelling.StartsWith(name, ForwardedHeaderPrefix))
                {
                    RequestTransform.RemoveHeader(transform, name);
                }
            }
            transform.ProxyRequest.Headers.TryAddWithoutValidation("Authorization", call.Credential);
            return ValueTask.CompletedTask;
        });
        context.AddResponseTransform(async transform =>
        {
            var headers = transform.HttpContext.Response.Headers;
            foreach (var name in headers.Keys.Where(n => HeaderSpelling.StartsWith(n, KeyBrakeHeaderPrefix)).ToList())
            {
                headers.Remove(name);
            }
            var call = transform.HttpContext.Features.Get<ProxyCall>();
            if (call?.Credential is null)
            {
                return;
            }
            var scrubber = SecretScrubber.For(call.Vendor, call.Credential);
            scrubber.Scrub(headers);
            headers[RequestIds.Header] = call.RequestId;
            if (call.Reservation is { } reservation)
            {
                headers[RemainingHeader] = reservation.Remaining.ToString();
            }
            if (transform.ProxyResponse is { StatusCode: >= System.Net.HttpStatusCode.Ambiguous })
            {
                await ScrubBodyAsync(transform, call, scrubber);
            }
            else if (VendorProfiles.Find(call.Vendor) is { } profile)
            {
                // SPEC §4 step 11 on success bodies: only a vendor whose success responses can carry the secret (its
                // profile says so: Twilio's Account resource states auth_token) has them buffered and scrubbed; the
                // others stream through (Stripe is the hot path), their error bodies still scrubbed above.
                await (profile.ScrubsSuccessBodies ? ScrubSuccessBodyAsync(transform, call, profile, scrubber) : InspectResponseBodyAsync(transform, call, profile));
            }
        });
        context.AddResponseTrailersTransform(transform =>
        {
            var call = transform.HttpContext.Features.Get<ProxyCall>();
            if (call?.Credential is not null && transform.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseTrailersFeature>()?.Trailers is { } trailers)
            {
                SecretScrubber.For(call.Vendor, call.Credential).Scrub(trailers);
            }
            return ValueTask.CompletedTask;
        });
    }

    /// <summary>
    /// A 3xx/4xx/5xx body may quote what the vendor received, the secret included, so it is read whole (bounded),
    /// decoded if the upstream compressed it, scrubbed and sent on uncompressed. Fail closed: a body that cannot be read
    /// that way (an unknown or stacked coding, corrupt, over <see cref="MaxScrubbedBodyBytes"/>, a broken upstream) is
    /// withheld — the agent gets the status and headers with an empty body, never bytes nobody checked. The agent's
    /// Accept-Encoding still goes upstream, so 2xx bodies stay compressed and untouched.
    /// </summary>
    private async Task ScrubBodyAsync(ResponseTransformContext transform, ProxyCall call, SecretScrubber scrubber)
    {
        var http = transform.HttpContext;
        var response = transform.ProxyResponse!;
        if (HttpMethods.IsHead(http.Request.Method) || response.StatusCode == System.Net.HttpStatusCode.NotModified)
        {
            return; // no body
        }
        transform.SuppressResponseBody = true;
        var aborted = http.RequestAborted;
        byte[]? plain = null;
        try
        {
            var (raw, complete) = await ReadPrefixAsync(await response.Content.ReadAsStreamAsync(aborted), MaxScrubbedBodyBytes, aborted);
            plain = complete ? ContentDecoding.Decode(raw, response.Content.Headers.ContentEncoding, MaxScrubbedBodyBytes) : null;
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            Log.BodyUnreadable(logger, call.RequestId, call.Vendor, e.GetType().Name);
        }
        if (plain is null)
        {
            Log.BodyWithheld(logger, call.RequestId, call.Vendor, (int)response.StatusCode);
        }
        var body = plain is null ? [] : scrubber.Scrub(plain);
        http.Response.Headers.ContentEncoding = default; // sent as decoded
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, aborted);
    }

    /// <summary>
    /// A 2xx body of a vendor whose profile says <see cref="VendorProfile.ScrubsSuccessBodies"/>: read, decoded and
    /// scrubbed like an error body, and sent decoded. The call has happened (it may have moved money), so its answer is never dropped for its size: a
    /// body over <see cref="MaxScrubbedBodyBytes"/> (raw or decoded) streams from its first byte through the decoder and
    /// <see cref="SecretScrubber.CopyScrubbedAsync"/>, which works for any size. Fail closed only where nothing can
    /// check it — a coding KeyBrake cannot read (unknown, stacked, corrupt before anything was sent): the status and
    /// headers stand with an empty body and <see cref="BodyWithheldHeader"/>, and a warning names the request id, so
    /// the agent is not left taking an empty body for the answer. A body that breaks off mid-stream aborts the response
    /// rather than end it as if whole.
    /// </summary>
    private async Task ScrubSuccessBodyAsync(ResponseTransformContext transform, ProxyCall call, VendorProfile profile, SecretScrubber scrubber)
    {
        var http = transform.HttpContext;
        var response = transform.ProxyResponse!;
        if (HttpMethods.IsHead(http.Request.Method) || response.StatusCode is System.Net.HttpStatusCode.NoContent or System.Net.HttpStatusCode.NotModified)
        {
            return; // no body
        }
        transform.SuppressResponseBody = true;
        http.Response.Headers.ContentEncoding = default; // sent as decoded
        var aborted = http.RequestAborted;
        var encoding = response.Content.Headers.ContentEncoding;
        try
        {
            var upstream = await response.Content.ReadAsStreamAsync(aborted);
            var (raw, complete) = await ReadPrefixAsync(upstream, MaxScrubbedBodyBytes, aborted);
            if (complete && ContentDecoding.Decode(raw, encoding, MaxScrubbedBodyBytes) is { } plain)
            {
                var body = scrubber.Scrub(plain);
                if (response.Content.Headers.ContentType?.MediaType == "application/json")
                {
                    call.ResponseJson = body; // the price (SPEC §5), read from what the agent sees
                    call.VendorRequestId = IdInHeader(response, profile) ? null : profile.RequestIdFromBody(body);
                }
                http.Response.ContentLength = body.Length;
                await http.Response.Body.WriteAsync(body, aborted);
                return;
            }
            if (ContentDecoding.DecodingStream(new PrefixedReadStream(raw, upstream), encoding) is { } decoded)
            {
                http.Response.ContentLength = null; // length unknown until the end: chunked
                await using (decoded)
                {
                    await scrubber.CopyScrubbedAsync(decoded, http.Response.Body, aborted);
                }
                return;
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException or InvalidDataException)
        {
            Log.BodyUnreadable(logger, call.RequestId, call.Vendor, e.GetType().Name);
            if (http.Response.HasStarted)
            {
                http.Abort(); // part of the body went out: a broken response, never one that looks whole
                return;
            }
        }
        Log.BodyWithheld(logger, call.RequestId, call.Vendor, (int)response.StatusCode);
        http.Response.Headers[BodyWithheldHeader] = "undecodable";
        http.Response.ContentLength = 0;
    }

    /// <returns>The body, or its first bytes (just over <paramref name="maxBytes"/>) with Complete false when it is longer.</returns>
    private static async Task<(byte[] Prefix, bool Complete)> ReadPrefixAsync(Stream upstream, int maxBytes, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await upstream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                body.Write(chunk, 0, read);
                if (body.Length > maxBytes)
                {
                    return (body.ToArray(), false);
                }
            }
            return (body.ToArray(), true);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>
    /// A small JSON success body is read when KeyBrake needs something only the body states: the vendor request id
    /// (Resend's email id) or the settled price (Twilio's <c>price</c>). The bytes then go to the agent untouched.
    /// </summary>
    private static async Task InspectResponseBodyAsync(ResponseTransformContext transform, ProxyCall call, VendorProfile profile)
    {
        var response = transform.ProxyResponse;
        var idInHeader = response is not null && IdInHeader(response, profile);
        if (response is not { IsSuccessStatusCode: true } || (idInHeader && !profile.StatesPrice)
            || response.Content.Headers.ContentType?.MediaType != "application/json"
            || response.Content.Headers.ContentLength is 0 or > MaxInspectedBodyBytes)
        {
            return;
        }
        // Read at most MaxInspectedBodyBytes + 1: a larger body (length not declared) is passed on as it streams, uninspected.
        var aborted = transform.HttpContext.RequestAborted;
        var upstream = await response.Content.ReadAsStreamAsync(aborted);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(MaxInspectedBodyBytes + 1);
        try
        {
            var length = 0;
            int read;
            while (length <= MaxInspectedBodyBytes && (read = await upstream.ReadAsync(buffer.AsMemory(length, MaxInspectedBodyBytes + 1 - length), aborted)) > 0)
            {
                length += read;
            }
            transform.SuppressResponseBody = true;
            if (length <= MaxInspectedBodyBytes && ContentDecoding.Decode(buffer.AsSpan(0, length).ToArray(), response.Content.Headers.ContentEncoding, 16 * MaxInspectedBodyBytes) is { } json)
            {
                call.ResponseJson = json;
                call.VendorRequestId = idInHeader ? null : profile.RequestIdFromBody(json);
            }
            await transform.HttpContext.Response.Body.WriteAsync(buffer.AsMemory(0, length), aborted);
            await upstream.CopyToAsync(transform.HttpContext.Response.Body, aborted);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IdInHeader(HttpResponseMessage response, VendorProfile profile) =>
        profile.RequestIdHeader is { } header && response.Headers.Contains(header);

    private static partial class Log
    {
        [LoggerMessage(EventId = 4221, Level = LogLevel.Warning, Message = "Request {RequestId}: the {Vendor} response body broke off while it was read for scrubbing ({Kind})")]
        public static partial void BodyUnreadable(ILogger logger, string requestId, string vendor, string kind);

        [LoggerMessage(EventId = 4222, Level = LogLevel.Warning, Message = "Request {RequestId}: the {Vendor} {Status} response body was withheld from the agent: it could not be decoded and checked for the vendor secret")]
        public static partial void BodyWithheld(ILogger logger, string requestId, string vendor, int status);
    }
}

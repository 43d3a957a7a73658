using KeyBrake.Keys;
using KeyBrake.Secrets;
using KeyBrake.Spend;
using KeyBrake.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace KeyBrake.Proxy;

/// <summary>
/// SPEC §4 steps 3–10, inside YARP's pipeline where the matched route is known: the first failure answers and
/// nothing reaches the vendor. Runs after <see cref="ListenerGateMiddleware"/> has done steps 1–2.
/// </summary>
internal sealed partial class ProxyPolicyMiddleware(
    RequestDelegate next,
    KeyLookup keys,
    ISpendGate spend,
    IProxyAuditTrail audit,
    ISecretStore secrets,
    IOptions<KeyBrakeOptions> options,
    TimeProvider time,
    ILogger<ProxyPolicyMiddleware> logger)
{
    private readonly Dictionary<string, VendorOptions> _vendors = options.Value.Vendors;
    private readonly long _maxBodyBytes = options.Value.Proxy.MaxBodyBytes;

    public Task InvokeAsync(HttpContext context)
    {
        var call = context.Features.Get<ProxyCall>();
        if (call is null || context.GetReverseProxyFeature().Route.Config.RouteId != call.Vendor)
        {
            // Not admitted by the gate (e.g. a proxy route reached on the admin listener): not found, never forwarded.
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        var token = ProxyToken.Read(context.Request.Headers.Authorization);
        if (token is null)
        {
            Log.MissingKey(logger, call.RequestId, call.Vendor);
            KeyBrakeMetrics.Denied(call.Vendor, "missing_key");
            return new KeyBrakeError(StatusCodes.Status401Unauthorized, "missing_key",
                "Send the vault key as Authorization: Bearer vk_… (or as the Basic username or password).").WriteAsync(context);
        }
        return InvokeWithKeyAsync(context, call, VaultToken.Hash(token));
    }

    private async Task InvokeWithKeyAsync(HttpContext context, ProxyCall call, string tokenHash)
    {
        using var span = call.Span = KeyBrakeTelemetry.StartProxyCall(call.Vendor, context.Request.Method);
        span?.SetTag("keybrake.request_id", call.RequestId);
        var key = await keys.FindAsync(tokenHash, context.RequestAborted);
        span?.SetTag("keybrake.key_id", key?.Id).SetTag("keybrake.label", key?.Label);
        var denial = Authorize(context, call, key, time.GetUtcNow()) ?? ReadReason(context, call);
        if (denial is null && !await TryBufferBodyAsync(context, call))
        {
            denial = ListenerGateMiddleware.BodyTooLargeError(_maxBodyBytes);
        }
        if (denial is not null)
        {
            await DenyAsync(context, call, denial);
            return;
        }

        var reservation = await spend.ReserveAsync(call.Key!, context, context.RequestAborted);
        call.Reservation = reservation;
        if (reservation.Denial is { } refused)
        {
            await DenyAsync(context, call, refused);
            return;
        }
        // Steps 7–10 hold the reservation: every path out settles or releases it. One method, one state machine.
        var vendorTag = new KeyValuePair<string, object?>("vendor", call.Vendor);
        KeyBrakeMetrics.ReservationsInFlight.Add(1, vendorTag);
        try
        {
            var recorded = await RecordRequestAsync(context, call);
            if (recorded != Audit.AppendResult.Committed)
            {
                await spend.ReleaseAsync(reservation, CancellationToken.None);
                await (recorded == Audit.AppendResult.NotCommitted
                    ? new KeyBrakeError(StatusCodes.Status503ServiceUnavailable, "audit_unavailable",
                        "The audit log could not record this call, so it was not forwarded.").WriteAsync(context)
                    // SPEC §7: the key's revocation (or expiry) was sealed first; a request after it is refused, never forwarded.
                    : DenyAsync(context, call, KeyErrors.Closed(call.Key!, recorded)));
                return;
            }

            var vendor = _vendors[call.Vendor];
            try
            {
                var secret = await secrets.GetAsync(vendor.SecretName!, context.RequestAborted);
                call.Credential = VendorCredential.HeaderValue(vendor, secret)
                    ?? throw new SecretUnavailableException($"KeyBrake:Vendors:{call.Vendor}:AccountSid is not configured.");
            }
            catch (SecretUnavailableException e)
            {
                Log.SecretUnavailable(logger, call.RequestId, call.Vendor, e.Message);
                await spend.ReleaseAsync(reservation, CancellationToken.None);
                await DenyAsync(context, call, new KeyBrakeError(StatusCodes.Status503ServiceUnavailable, "secret_unavailable",
                    $"The {call.Vendor} credential is unavailable right now; nothing was sent to {call.Vendor}."));
                return;
            }

            await next(context);
            await AfterForwardAsync(context, call, reservation);
        }
        finally
        {
            KeyBrakeMetrics.ReservationsInFlight.Add(-1, vendorTag);
        }
    }

    /// <summary>Steps 3–5: the key, its vendor, its allowlist. Null when the call may proceed.</summary>
    private static KeyBrakeError? Authorize(HttpContext context, ProxyCall call, VaultKey? key, DateTimeOffset now)
    {
        if (key is null)
        {
            return new KeyBrakeError(StatusCodes.Status401Unauthorized, "invalid_key", "This vault key is not known.");
        }
        call.Key = key;
        switch (key.StatusAt(now))
        {
            case KeyStatus.Revoked:
                return KeyErrors.Revoked(key);
            case KeyStatus.Expired:
                return KeyErrors.Expired(key);
        }
        if (key.Vendor != call.Vendor)
        {
            return new KeyBrakeError(StatusCodes.Status403Forbidden, "vendor_not_allowed",
                $"Vault key {key.Id} is for {key.Vendor}, not {call.Vendor}.");
        }
        var method = context.Request.Method;
        call.Matched = key.Endpoints.Match(method, call.Path);
        if (call.Matched is null)
        {
            var attempted = method + " " + call.Path;
            return new KeyBrakeError(StatusCodes.Status403Forbidden, "endpoint_not_allowed",
                $"{attempted} is not in the allowed endpoints of vault key {key.Id}.",
                writer =>
                {
                    writer.WriteStartArray("allowed_endpoints");
                    foreach (var pattern in key.Endpoints.Texts)
                    {
                        writer.WriteStringValue(pattern);
                    }
                    writer.WriteEndArray();
                    writer.WriteString("attempted", attempted);
                });
        }
        return null;
    }

    /// <summary>The agent's stated reason for the call (SPEC §4): at most 500 characters, kept in the audit entries.</summary>
    private static KeyBrakeError? ReadReason(HttpContext context, ProxyCall call)
    {
        if (!context.Request.Headers.TryGetValue(ProxyCall.ReasonHeader, out var values))
        {
            return null;
        }
        var reason = values.ToString();
        if (reason.Length > ProxyCall.MaxReasonLength)
        {
            return KeyBrakeError.InvalidRequest([new(ProxyCall.ReasonHeader, $"must be at most {ProxyCall.MaxReasonLength} characters (it has {reason.Length})")]);
        }
        call.Reason = reason;
        return null;
    }

    /// <summary>Reads the body once, bounded, and puts it back as a replayable stream with a Content-Length.</summary>
    private async Task<bool> TryBufferBodyAsync(HttpContext context, ProxyCall call)
    {
        var bodyDetection = context.Features.Get<IHttpRequestBodyDetectionFeature>();
        if (bodyDetection is { CanHaveBody: false })
        {
            return true;
        }
        byte[] body;
        if (context.Request.ContentLength is { } declared)
        {
            // The usual case: read straight into an array of the declared size (the gate refused larger ones).
            if (declared > _maxBodyBytes)
            {
                return false;
            }
            body = declared == 0 ? [] : new byte[declared];
            var filled = 0;
            int got;
            while (filled < body.Length && (got = await context.Request.Body.ReadAsync(body.AsMemory(filled), context.RequestAborted)) > 0)
            {
                filled += got;
            }
            if (filled < body.Length)
            {
                body = body[..filled];
            }
        }
        else
        {
            var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                using var buffer = new MemoryStream(4096);
                int read;
                while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
                {
                    if (buffer.Length + read > _maxBodyBytes)
                    {
                        return false;
                    }
                    buffer.Write(chunk, 0, read);
                }
                body = buffer.ToArray();
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
            }
        }
        call.Body = body;
        context.Request.Headers.Remove("Transfer-Encoding");
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body, writable: false);
        return true;
    }

    private async ValueTask<Audit.AppendResult> RecordRequestAsync(HttpContext context, ProxyCall call)
    {
        try
        {
            return await audit.RecordRequestAsync(context, call, context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.AuditFailed(logger, call.RequestId, e);
            return Audit.AppendResult.NotCommitted;
        }
    }

    private async Task DenyAsync(HttpContext context, ProxyCall call, KeyBrakeError error)
    {
        Log.Denied(logger, call.RequestId, call.Key?.Id, call.Vendor, error.Code);
        KeyBrakeMetrics.Denied(call.Vendor, error.Code);
        call.Span?.SetTag("keybrake.decision", "deny:" + error.Code).SetTag("keybrake.outcome", Audit.AuditOutcomes.Denied)
            .SetTag("http.response.status_code", error.Status);
        await audit.RecordDeniedAsync(context, call, error);
        await error.WriteAsync(context);
    }

    /// <summary>Step 10, and the upstream failures YARP reports: 502 upstream_unreachable, 504 upstream_timeout.</summary>
    private async Task AfterForwardAsync(HttpContext context, ProxyCall call, SpendReservation reservation)
    {
        var failure = context.Features.Get<IForwarderErrorFeature>();
        int? upstreamStatus = failure is null ? context.Response.StatusCode : null;
        var settled = await spend.SettleAsync(reservation, context, upstreamStatus, CancellationToken.None);
        // SPEC §5: a 5xx, a time-out or a broken connection after forwarding may or may not have executed.
        var outcome = upstreamStatus switch
        {
            null or >= 500 => Audit.AuditOutcomes.InDoubt,
            >= 400 => Audit.AuditOutcomes.VendorRejected,
            _ => Audit.AuditOutcomes.Executed,
        };
        if (failure is not null && !context.Response.HasStarted)
        {
            var error = failure.Error switch
            {
                ForwarderError.RequestTimedOut => new KeyBrakeError(StatusCodes.Status504GatewayTimeout, "upstream_timeout",
                    $"{call.Vendor} did not answer in time; the call may or may not have been executed."),
                ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled => null, // the agent went away
                // No connection was made: nothing was sent, a retry is safe.
                _ when NeverConnected(failure.Exception) => new KeyBrakeError(StatusCodes.Status502BadGateway, "upstream_unreachable",
                    $"{call.Vendor} could not be reached; nothing was sent to {call.Vendor}.", retryable: true),
                // The connection broke after the request went out: it may have executed, a blind retry could repeat it.
                _ => new KeyBrakeError(StatusCodes.Status502BadGateway, "upstream_unreachable",
                    $"The connection to {call.Vendor} broke ({failure.Error}); the call may or may not have been executed."),
            };
            if (error is not null)
            {
                // The cause (addresses, socket errors) is for operators, not for the agent's error body.
                Log.UpstreamFailed(logger, call.RequestId, call.Vendor, failure.Error.ToString(), failure.Exception);
                await error.WriteAsync(context);
            }
        }
        KeyBrakeMetrics.Forwarded(call.Vendor, outcome, settled.Value);
        if (call.Span is { } span)
        {
            span.SetTag("keybrake.decision", "allow:" + call.Matched?.Text).SetTag("keybrake.outcome", outcome)
                .SetTag("http.response.status_code", context.Response.StatusCode).SetTag("keybrake.cost_usd_micros", settled.Value);
            if (failure is not null || context.Response.StatusCode >= 500)
            {
                span.SetStatus(System.Diagnostics.ActivityStatusCode.Error, failure?.Error.ToString());
            }
        }
        await audit.RecordResponseAsync(context, call, settled, outcome);
    }

    private static bool NeverConnected(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
            {
                return true;
            }
        }
        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Request {RequestId} to {Vendor} carries no vault key: 401 missing_key")]
        public static partial void MissingKey(ILogger logger, string requestId, string vendor);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Request {RequestId} (key {KeyId}, {Vendor}) denied: {Code}")]
        public static partial void Denied(ILogger logger, string requestId, string? keyId, string vendor, string code);

        [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Request {RequestId}: the {Vendor} secret is unavailable: {Problem}")]
        public static partial void SecretUnavailable(ILogger logger, string requestId, string vendor, string problem);

        [LoggerMessage(EventId = 4104, Level = LogLevel.Error, Message = "Request {RequestId}: the audit trail failed; the call was refused")]
        public static partial void AuditFailed(ILogger logger, string requestId, Exception exception);

        [LoggerMessage(EventId = 4105, Level = LogLevel.Warning, Message = "Request {RequestId} to {Vendor} failed upstream: {Error}")]
        public static partial void UpstreamFailed(ILogger logger, string requestId, string vendor, string error, Exception? exception);
    }
}

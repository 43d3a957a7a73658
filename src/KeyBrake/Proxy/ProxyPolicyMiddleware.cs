using KeyBrake.Keys;
using KeyBrake.Secrets;
using KeyBrake.Spend;
using KeyBrake.Telemetry;
using KeyBrake.Vendors;
using KeyBrake.Vendors.Stripe;
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
    RequestBodyReader bodies,
    AnonymousRefusals anonymous,
    Storage.IStoreEngine store,
    IOptions<KeyBrakeOptions> options,
    TimeProvider time,
    ILogger<ProxyPolicyMiddleware> logger)
{
    private static readonly KeyBrakeError MissingKey = new(StatusCodes.Status401Unauthorized, "missing_key",
        "Send the vault key as Authorization: Bearer vk_… (or as the Basic username or password).");

    private static readonly KeyBrakeError InvalidKey = new(StatusCodes.Status401Unauthorized, "invalid_key", "This vault key is not known.");

    private readonly Dictionary<string, VendorOptions> _vendors = options.Value.Vendors;

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
            // SPEC §4: no token, no key to hold to account: counted and logged once a second, never chained.
            anonymous.Refused(call.Vendor, MissingKey.Code);
            return MissingKey.WriteAsync(context);
        }
        return InvokeWithKeyAsync(context, call, VaultToken.Hash(token));
    }

    private static readonly KeyBrakeError AuditUnavailable = new(StatusCodes.Status503ServiceUnavailable, AuditUnavailableHandling.Code,
        "The audit log could not record this call, so it was not forwarded.");

    private static readonly KeyBrakeError StoreUnavailable = new(StatusCodes.Status503ServiceUnavailable, AuditUnavailableHandling.Code,
        "The store that holds keys, spend and the audit log is unavailable, so this call was not forwarded.");

    /// <summary>
    /// SPEC §9: a replica that loses its database fails closed. A key lookup or a reservation that the store cannot
    /// answer refuses the call before anything is forwarded (after forwarding, the spend step keeps the reservation and
    /// the audit writer retries the response entry, so nothing escapes this way).
    /// </summary>
    private async Task InvokeWithKeyAsync(HttpContext context, ProxyCall call, string tokenHash)
    {
        try
        {
            await InvokeWithKeyCoreAsync(context, call, tokenHash);
        }
        catch (Exception e) when (Spend.SpendUnavailableException.IsStoreFailure(e) && !context.Response.HasStarted)
        {
            Log.StoreUnavailable(logger, call.RequestId, e.Message);
            KeyBrakeMetrics.Denied(call.Vendor, StoreUnavailable.Code);
            await StoreUnavailable.WriteAsync(context);
        }
    }

    private async Task InvokeWithKeyCoreAsync(HttpContext context, ProxyCall call, string tokenHash)
    {
        using var span = call.Span = KeyBrakeTelemetry.StartProxyCall(call.Vendor, context.Request.Method);
        span?.SetTag("keybrake.request_id", call.RequestId);
        var key = await keys.FindAsync(tokenHash, context.RequestAborted);
        if (key is null)
        {
            anonymous.Refused(call.Vendor, InvalidKey.Code);
            await InvalidKey.WriteAsync(context);
            return;
        }
        span?.SetTag("keybrake.key_id", key.Id).SetTag("keybrake.label", key.Label);
        try
        {
            var denial = Authorize(context, call, key, time.GetUtcNow()) ?? ReadReason(context, call) ?? await bodies.ReadAsync(context, call);
            if (denial is not null)
            {
                await DenyAsync(context, call, denial);
                return;
            }
            await ReserveAndForwardAsync(context, call);
        }
        finally
        {
            bodies.Release(call); // the body was held until forwarded; the budget is free again once the call ends
        }
    }

    /// <summary>Steps 7–11 for a call whose key, allowlist and body passed.</summary>
    private async Task ReserveAndForwardAsync(HttpContext context, ProxyCall call)
    {
        var request = context.Request;
        var reservation = await spend.ReserveAsync(call.Key!,
            new SpendRequest(call.Vendor, request.Method, call.Path, () => call.ReadFields(request), request.Headers[StripeAccountHeader.Name]),
            context.RequestAborted);
        call.Reservation = reservation;
        if (SpendRefusals.For(reservation, call.Key!) is { } refused)
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
                await spend.ReleaseAsync(reservation, CancellationToken.None); // a reservation kept in the chain was never made
                await (recorded switch
                {
                    Audit.AppendResult.NotCommitted => AuditUnavailable.WriteAsync(context),
                    // SPEC §5, a reservation decided in the chain's transaction: over the cap, the entry withdrawn.
                    Audit.AppendResult.SpendRefused => DenyAsync(context, call, SpendRefusals.For(call.Reservation!, call.Key!)!),
                    // No spend row to decide it on (removed outside KeyBrake; the next call opens it again): refused like
                    // an unreachable store, and recorded, since the store itself answers.
                    Audit.AppendResult.SpendUnknown => DenyAsync(context, call, StoreUnavailable),
                    // Its key's spend row is held by a session outside KeyBrake: this call only is refused, retryable.
                    Audit.AppendResult.SpendBusy => DenyAsync(context, call, StoreUnavailable),
                    // SPEC §7: the key's revocation (or expiry) was sealed first; a request after it is refused, never forwarded.
                    _ => DenyAsync(context, call, KeyErrors.Closed(call.Key!, recorded)),
                });
                return;
            }
            reservation = call.Reservation!; // decided with the entry when kept in the chain

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

    /// <summary>Steps 3–5 for a known key: its status, its vendor, its allowlist and Stripe-Account. Null when the call may proceed.</summary>
    private static KeyBrakeError? Authorize(HttpContext context, ProxyCall call, VaultKey key, DateTimeOffset now)
    {
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
        return StripeAccountHeader.Check(context.Request.Headers, key);
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
        if (store.IsShared && call.Key is { } cached && error.Status != StatusCodes.Status401Unauthorized)
        {
            // SPEC §9: another replica may have revoked the key since this one cached it (its notification is on its
            // way). The chain refuses such a key's request at step 8; a refusal before it must say so too, so the
            // store is asked again, on this rare path only.
            var current = await ReloadOrNullAsync(cached);
            error = current?.StatusAt(time.GetUtcNow()) switch
            {
                KeyStatus.Revoked => KeyErrors.Revoked(current),
                KeyStatus.Expired => KeyErrors.Expired(current),
                _ => error,
            };
        }
        Log.Denied(logger, call.RequestId, call.Key?.Id, call.Vendor, error.Code);
        KeyBrakeMetrics.Denied(call.Vendor, error.Code);
        call.Span?.SetTag("keybrake.decision", "deny:" + error.Code).SetTag("keybrake.outcome", Audit.AuditOutcomes.Denied)
            .SetTag("http.response.status_code", error.Status);
        await audit.RecordDeniedAsync(context, call, error);
        await error.WriteAsync(context);
    }

    /// <summary>
    /// The key as the store has it now; null when the store cannot say (the refusal then stands as it is, and is
    /// recorded: a reservation it gives back rides its entry).
    /// </summary>
    private async Task<VaultKey?> ReloadOrNullAsync(VaultKey cached)
    {
        try
        {
            return await keys.ReloadAsync(cached.TokenHash, CancellationToken.None);
        }
        catch (Exception e) when (Spend.SpendUnavailableException.IsStoreFailure(e))
        {
            return null;
        }
    }

    /// <summary>Step 10, and the upstream failures YARP reports: 502 upstream_unreachable, 504 upstream_timeout.</summary>
    private async Task AfterForwardAsync(HttpContext context, ProxyCall call, SpendDecision reservation)
    {
        var failure = context.Features.Get<IForwarderErrorFeature>();
        var neverConnected = failure is not null && NeverConnected(failure.Exception);
        MicroUsd settled;
        string outcome;
        if (neverConnected)
        {
            // SPEC §5: no connection could be made, so nothing was sent: the reservation is released, not kept in doubt.
            await spend.ReleaseAsync(reservation, CancellationToken.None);
            (settled, outcome) = (default, Audit.AuditOutcomes.NotDelivered);
        }
        else
        {
            int? upstreamStatus = failure is null ? context.Response.StatusCode : null;
            var replayed = context.Response.Headers["Idempotent-Replayed"] == "true"; // Stripe: an idempotent retry, not a new charge
            settled = await spend.SettleAsync(reservation, upstreamStatus, replayed, call.ResponseJson, CancellationToken.None);
            // SPEC §5: a 5xx, a time-out or a broken connection after forwarding may or may not have executed.
            outcome = upstreamStatus switch
            {
                null or >= 500 => Audit.AuditOutcomes.InDoubt,
                >= 400 => Audit.AuditOutcomes.VendorRejected,
                _ => Audit.AuditOutcomes.Executed,
            };
        }
        if (failure is not null && !context.Response.HasStarted)
        {
            var error = failure.Error switch
            {
                ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled => null, // the agent went away
                // No connection was made (YARP reports a connect time-out as a time-out): nothing was sent, a retry is safe.
                _ when neverConnected => new KeyBrakeError(StatusCodes.Status502BadGateway, "upstream_unreachable",
                    $"{call.Vendor} could not be reached; nothing was sent to {call.Vendor}.", retryable: true),
                ForwarderError.RequestTimedOut => new KeyBrakeError(StatusCodes.Status504GatewayTimeout, "upstream_timeout",
                    $"{call.Vendor} did not answer in time; the call may or may not have been executed."),
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

    /// <summary>
    /// The failures that happen before a byte of the request goes out: the name did not resolve, the TCP connection or
    /// the TLS handshake failed, or the vendor's <c>ConnectTimeout</c> passed (SocketsHttpHandler reports that one as a
    /// cancellation whose inner exception is a <see cref="TimeoutException"/>; YARP's own response time-out cancels
    /// without one, and stays in doubt). Anything later (a reset, a response time-out) may have reached the vendor.
    /// </summary>
    private static bool NeverConnected(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException
                {
                    HttpRequestError: HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError,
                } or OperationCanceledException { InnerException: TimeoutException })
            {
                return true;
            }
        }
        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Request {RequestId} (key {KeyId}, {Vendor}) denied: {Code}")]
        public static partial void Denied(ILogger logger, string requestId, string? keyId, string vendor, string code);

        [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Request {RequestId}: the {Vendor} secret is unavailable: {Problem}")]
        public static partial void SecretUnavailable(ILogger logger, string requestId, string vendor, string problem);

        [LoggerMessage(EventId = 4104, Level = LogLevel.Error, Message = "Request {RequestId}: the audit trail failed; the call was refused")]
        public static partial void AuditFailed(ILogger logger, string requestId, Exception exception);

        [LoggerMessage(EventId = 4106, Level = LogLevel.Error, Message = "Request {RequestId}: the store is unavailable ({Problem}); the call was refused")]
        public static partial void StoreUnavailable(ILogger logger, string requestId, string problem);

        [LoggerMessage(EventId = 4105, Level = LogLevel.Warning, Message = "Request {RequestId} to {Vendor} failed upstream: {Error}")]
        public static partial void UpstreamFailed(ILogger logger, string requestId, string vendor, string error, Exception? exception);
    }
}

using KeyBrake.Audit;
using KeyBrake.Spend;

namespace KeyBrake.Proxy;

/// <summary>The proxy's <c>proxy.request</c>, <c>proxy.response</c> and <c>proxy.denied</c> entries (SPEC §7).</summary>
internal sealed partial class ProxyAuditTrail(AuditLog log, TimeProvider time, ILogger<ProxyAuditTrail> logger) : IProxyAuditTrail
{
    /// <summary>An HTTP method is a short token; a longer one the server accepted is cut, like every agent-chosen string.</summary>
    public const int MaxMethodLength = 32;

    /// <summary>The vendor's request id (a header or Resend's email id): tens of characters in practice.</summary>
    public const int MaxVendorRequestIdLength = 256;

    private static readonly string[] VendorRequestIdHeaders = ["Request-Id", "Twilio-Request-Id", "X-Request-Id"];

    private readonly Telemetry.OncePerSecondCount _unrecorded = new(time);

    public async ValueTask<AppendResult> RecordRequestAsync(HttpContext context, ProxyCall call, CancellationToken cancellationToken)
    {
        if (log.ProxyBlocked is { } why)
        {
            Log.Blocked(logger, call.RequestId, why);
            return AppendResult.NotCommitted;
        }
        var entry = Entry(context, call, AuditTypes.ProxyRequest) with
        {
            CostUsdMicros = call.Reservation?.Estimate.Value ?? 0,
            Decision = "allow:" + call.Matched!.Text,
            Details = CallDetails.FromRequest(context.Request, call),
        };
        // Abandonable: if the commit does not come in time the entry is withdrawn, and the call is refused. The writer
        // also withdraws it when the key's key.revoked / key.expired is already sealed (SPEC §7), and, with a ledger kept
        // beside the chain, when its reservation would pass the cap (decided in the same transaction).
        var claim = call.Reservation?.Claim();
        var result = await log.Writer.CommitAsync(entry, claim, log.CommitTimeout, abandonable: true, cancellationToken);
        if (claim is not null)
        {
            call.Reservation = call.Reservation!.Decided(claim.Outcome, result == AppendResult.Committed);
        }
        return result;
    }

    public async ValueTask RecordResponseAsync(HttpContext context, ProxyCall call, MicroUsd settled, string outcome)
    {
        var entry = Entry(context, call, AuditTypes.ProxyResponse) with
        {
            CostUsdMicros = settled.Value,
            Decision = call.Matched is { } matched ? "allow:" + matched.Text : null,
            Outcome = outcome,
            HttpStatus = context.Response.StatusCode,
            VendorRequestId = VendorRequestId(context, call),
        };
        await AppendAsync(entry, call.Reservation?.Settlement(settled)); // a reservation kept in the chain is settled by this entry
    }

    public async ValueTask RecordDeniedAsync(HttpContext context, ProxyCall call, KeyBrakeError error)
    {
        // A call refused after its reservation (the secret is unavailable): this entry gives a reservation kept in the
        // chain back, so it is written even when space is low (one per admitted call, not per refusal).
        var release = call.Reservation?.Settlement(default);
        if (log.LowOnSpace is { } problem && release is null)
        {
            // A choice between SPEC §4 (every refusal of a known key is a proxy.denied entry) and SPEC §2 (below
            // MinFreeBytes admin changes and revocations keep working): the reserve is theirs, so a key holder cannot
            // spend it by sending refused calls. The caller has counted the refusal (keybrake.proxy.denials); the log says
            // how many went unchained, at most once a second.
            Unrecorded(problem);
            return;
        }
        var entry = Entry(context, call, AuditTypes.ProxyDenied) with
        {
            CostUsdMicros = call.Reservation?.Estimate.Value,
            Decision = "deny:" + error.Code,
            Outcome = AuditOutcomes.Denied,
            HttpStatus = error.Status,
            Details = CallDetails.FromRequest(context.Request, call),
        };
        await AppendAsync(entry, release);
    }

    private void Unrecorded(string problem)
    {
        if (_unrecorded.Add() is var count and > 0)
        {
            Log.DeniedNotRecorded(logger, count, problem);
        }
    }

    private async ValueTask AppendAsync(AuditEntry entry, SpendClaim? settlement)
    {
        try
        {
            await log.AppendAsync(entry, settlement);
        }
        catch (AuditUnavailableException e)
        {
            // The call itself is already decided (answered, or refused and never forwarded); say loudly what is missing.
            // A settlement lost with it leaves its reservation counted for the day: never under the cap's count.
            Log.EntryNotQueued(logger, entry.Type, entry.RequestId, e.Message);
        }
    }

    private AuditEntry Entry(HttpContext context, ProxyCall call, string type) => new()
    {
        Ts = log.Now(),
        Type = type,
        RequestId = call.RequestId,
        KeyId = call.Key?.Id,
        Label = call.Key?.Label,
        Actor = call.Key is { } key ? "key:" + key.Id : null,
        Vendor = call.Vendor,
        Method = CallDetails.Cut(context.Request.Method, MaxMethodLength),
        Path = call.Path,
        Reason = call.Reason,
        PolicyHash = call.Key?.PolicyHash,
    };

    private static string? VendorRequestId(HttpContext context, ProxyCall call)
    {
        foreach (var header in VendorRequestIdHeaders)
        {
            if (context.Response.Headers.TryGetValue(header, out var value) && value.Count > 0)
            {
                return CallDetails.Cut(value.ToString(), MaxVendorRequestIdLength);
            }
        }
        // Resend: the email id from the response body
        return call.VendorRequestId is { } id ? CallDetails.Cut(id, MaxVendorRequestIdLength) : null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5201, Level = LogLevel.Error, Message = "Request {RequestId} refused: {Why}")]
        public static partial void Blocked(ILogger logger, string requestId, string why);

        [LoggerMessage(EventId = 5202, Level = LogLevel.Critical, Message = "The {Type} entry of request {RequestId} could not be queued: {Problem}")]
        public static partial void EntryNotQueued(ILogger logger, string type, string? requestId, string problem);

        [LoggerMessage(EventId = 5203, Level = LogLevel.Warning,
            Message = "{Count} refused call(s) of known keys not put in the audit chain: {Problem} (the room left is for admin changes and revocations; at most one such line a second)")]
        public static partial void DeniedNotRecorded(ILogger logger, long count, string problem);
    }
}

using KeyBrake.Proxy;
using KeyBrake.Spend;

namespace KeyBrake.Audit;

/// <summary>The proxy's <c>proxy.request</c>, <c>proxy.response</c> and <c>proxy.denied</c> entries (SPEC §7).</summary>
internal sealed partial class ProxyAuditTrail(AuditLog log, ILogger<ProxyAuditTrail> logger) : IProxyAuditTrail
{
    private static readonly string[] VendorRequestIdHeaders = ["Request-Id", "Twilio-Request-Id", "X-Request-Id"];

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
        // also withdraws it when the key's key.revoked / key.expired is already sealed (SPEC §7).
        return await log.Writer.CommitAsync(entry, log.CommitTimeout, abandonable: true, cancellationToken);
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
        await AppendAsync(entry);
    }

    public async ValueTask RecordDeniedAsync(HttpContext context, ProxyCall call, KeyBrakeError error)
    {
        var entry = Entry(context, call, AuditTypes.ProxyDenied) with
        {
            CostUsdMicros = call.Reservation?.Estimate.Value,
            Decision = "deny:" + error.Code,
            Outcome = AuditOutcomes.Denied,
            HttpStatus = error.Status,
            Details = CallDetails.FromRequest(context.Request, call),
        };
        await AppendAsync(entry);
    }

    private async ValueTask AppendAsync(AuditEntry entry)
    {
        try
        {
            await log.AppendAsync(entry);
        }
        catch (AuditUnavailableException e)
        {
            // The call itself is already decided (answered, or refused and never forwarded); say loudly what is missing.
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
        Method = context.Request.Method,
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
                return value.ToString();
            }
        }
        return call.VendorRequestId; // Resend: the email id from the response body
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5201, Level = LogLevel.Error, Message = "Request {RequestId} refused: {Why}")]
        public static partial void Blocked(ILogger logger, string requestId, string why);

        [LoggerMessage(EventId = 5202, Level = LogLevel.Critical, Message = "The {Type} entry of request {RequestId} could not be queued: {Problem}")]
        public static partial void EntryNotQueued(ILogger logger, string type, string? requestId, string problem);
    }
}

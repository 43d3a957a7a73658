using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace KeyBrake.Proxy;

/// <summary>
/// SPEC §4 steps 9–10 as YARP transforms on the outgoing request and the returned response only: the agent's
/// Authorization and every X-KeyBrake-* header are dropped, the vendor credential is set, and the response gets
/// KeyBrake's own X-KeyBrake-* headers (any the upstream sent are dropped). No X-Forwarded-* goes to the vendor.
/// </summary>
internal sealed class VendorCredentialTransform : ITransformProvider
{
    public const string RemainingHeader = "X-KeyBrake-Remaining-Usd";
    private const string KeyBrakeHeaderPrefix = "X-KeyBrake-";

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
            RequestTransform.RemoveHeader(transform, "Authorization");
            RequestTransform.RemoveHeader(transform, "Proxy-Authorization");
            foreach (var name in transform.HttpContext.Request.Headers.Keys)
            {
                if (name.StartsWith(KeyBrakeHeaderPrefix, StringComparison.OrdinalIgnoreCase))
                {
                    RequestTransform.RemoveHeader(transform, name);
                }
            }
            transform.ProxyRequest.Headers.TryAddWithoutValidation("Authorization", call.Credential);
            return ValueTask.CompletedTask;
        });
        context.AddResponseTransform(static async transform =>
        {
            var headers = transform.HttpContext.Response.Headers;
            foreach (var name in headers.Keys.Where(n => n.StartsWith(KeyBrakeHeaderPrefix, StringComparison.OrdinalIgnoreCase)).ToList())
            {
                headers.Remove(name);
            }
            var call = transform.HttpContext.Features.Get<ProxyCall>();
            if (call is not null)
            {
                headers[RequestIds.Header] = call.RequestId;
                if (call.Reservation is { } reservation)
                {
                    headers[RemainingHeader] = reservation.Remaining.ToString();
                }
                await CaptureBodyRequestIdAsync(transform, call);
            }
        });
    }

    /// <summary>
    /// For the audit's vendor_request_id when the vendor states it only in the body (Resend): a small JSON success
    /// body is read, inspected and then written to the agent byte for byte.
    /// </summary>
    private static async Task CaptureBodyRequestIdAsync(ResponseTransformContext transform, ProxyCall call)
    {
        var response = transform.ProxyResponse;
        if (response is not { IsSuccessStatusCode: true } || response.Headers.Contains("Request-Id") || response.Headers.Contains("Twilio-Request-Id")
            || response.Content.Headers.ContentType?.MediaType != "application/json"
            || response.Content.Headers.ContentLength is not (> 0 and <= ResponseBodyIds.MaxBytes))
        {
            return;
        }
        var body = await response.Content.ReadAsByteArrayAsync(transform.HttpContext.RequestAborted);
        transform.SuppressResponseBody = true;
        call.VendorRequestId = ResponseBodyIds.Find(body, response.Content.Headers.ContentEncoding);
        await transform.HttpContext.Response.Body.WriteAsync(body, transform.HttpContext.RequestAborted);
    }
}

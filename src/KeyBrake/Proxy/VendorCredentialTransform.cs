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

    /// <summary>Vendors whose success responses state what the call cost (SPEC §5: Twilio's <c>price</c>).</summary>
    private static readonly HashSet<string> PricedFromResponse = ["twilio"];
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
                await InspectResponseBodyAsync(transform, call);
            }
        });
    }

    /// <summary>
    /// A small JSON success body is read when KeyBrake needs something only the body states: the vendor request id
    /// (Resend's email id) or the settled price (Twilio's <c>price</c>). The bytes then go to the agent untouched.
    /// </summary>
    private static async Task InspectResponseBodyAsync(ResponseTransformContext transform, ProxyCall call)
    {
        var response = transform.ProxyResponse;
        var idInHeader = response is not null && (response.Headers.Contains("Request-Id") || response.Headers.Contains("Twilio-Request-Id"));
        if (response is not { IsSuccessStatusCode: true } || (idInHeader && !PricedFromResponse.Contains(call.Vendor))
            || response.Content.Headers.ContentType?.MediaType != "application/json"
            || response.Content.Headers.ContentLength is 0 or > ResponseBodyIds.MaxBytes)
        {
            return;
        }
        // Read at most MaxBytes + 1: a larger body (length not declared) is passed on as it streams, uninspected.
        var aborted = transform.HttpContext.RequestAborted;
        var upstream = await response.Content.ReadAsStreamAsync(aborted);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(ResponseBodyIds.MaxBytes + 1);
        try
        {
            var length = 0;
            int read;
            while (length <= ResponseBodyIds.MaxBytes && (read = await upstream.ReadAsync(buffer.AsMemory(length, ResponseBodyIds.MaxBytes + 1 - length), aborted)) > 0)
            {
                length += read;
            }
            transform.SuppressResponseBody = true;
            if (length <= ResponseBodyIds.MaxBytes && ResponseBodyIds.Decoded(buffer.AsSpan(0, length).ToArray(), response.Content.Headers.ContentEncoding) is { } json)
            {
                call.ResponseJson = json;
                call.VendorRequestId = idInHeader ? null : ResponseBodyIds.Find(json);
            }
            await transform.HttpContext.Response.Body.WriteAsync(buffer.AsMemory(0, length), aborted);
            await upstream.CopyToAsync(transform.HttpContext.Response.Body, aborted);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

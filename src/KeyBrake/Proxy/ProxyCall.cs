using KeyBrake.Keys;
using KeyBrake.Policy;
using KeyBrake.Spend;

namespace KeyBrake.Proxy;

/// <summary>One agent call as it moves through the pipeline; a request feature set by the listener gate.</summary>
internal sealed class ProxyCall(string vendor, string path, string requestId)
{
    /// <summary>SPEC §4: the agent may state why it makes a call, in at most 500 characters.</summary>
    public const string ReasonHeader = "X-KeyBrake-Reason";
    public const int MaxReasonLength = 500;

    public string Vendor => vendor;

    /// <summary>The canonical path after the vendor prefix, without the query string.</summary>
    public string Path => path;

    public string RequestId => requestId;

    public VaultKey? Key { get; set; }

    public EndpointPattern? Matched { get; set; }

    /// <summary>The spend step's decision for this call (its estimate and price go into the audit entries).</summary>
    public SpendDecision? Reservation { get; set; }

    /// <summary>The request body, read once (bounded by MaxBodyBytes) so pricing and forwarding see the same bytes.</summary>
    public ReadOnlyMemory<byte> Body { get; set; }

    /// <summary>Bytes this call holds of the process-wide <see cref="InFlightBodyBudget"/>; given back when the call ends.</summary>
    public long BodyBytesHeld { get; set; }

    private (Spend.Pricing.RequestFields? Fields, string? Error)? _fields;

    /// <summary>
    /// The request's fields (query string and form or JSON body), parsed once from <see cref="Body"/> for pricing and
    /// the audit's details alike; the bytes forwarded are never touched.
    /// </summary>
    public (Spend.Pricing.RequestFields? Fields, string? Error) ReadFields(HttpRequest request) =>
        _fields ??= (Spend.Pricing.RequestFields.Parse(request.ContentType, ContentEncoding(request), Body, request.QueryString.Value, out var error), error);

    /// <summary>The request's Content-Encoding, null only when absent: pricing refuses any (SPEC §5), even an empty one.</summary>
    private static string? ContentEncoding(HttpRequest request) =>
        request.Headers.TryGetValue(Microsoft.Net.Http.Headers.HeaderNames.ContentEncoding, out var value) ? value.ToString() : null;

    /// <summary>The agent's <c>X-KeyBrake-Reason</c> (at most 500 characters), for the audit entries.</summary>
    public string? Reason { get; set; }

    /// <summary>A vendor request id found in the response body (Resend's email id); headers are read directly.</summary>
    public string? VendorRequestId { get; set; }

    /// <summary>A small JSON success body KeyBrake read (decompressed) for what only the body states; see VendorCredentialTransform.</summary>
    public byte[]? ResponseJson { get; set; }

    /// <summary>This call's span when telemetry is exported (vendor, key id, label, decision, outcome; never a token).</summary>
    public System.Diagnostics.Activity? Span { get; set; }

    /// <summary>The upstream Authorization header value. Lives only for this request; never logged.</summary>
    public string? Credential { get; set; }
}

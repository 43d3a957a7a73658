using System.Text.Encodings.Web;
using System.Text.Json;

namespace KeyBrake;

/// <summary>
/// The error body KeyBrake itself produces (SPEC §4), shaped like the vendors' own so their SDKs surface it:
/// <c>{"error":{"type":"keybrake_error","code":…,"message":…,"request_id":…,"retryable":…},"code":…,"message":…}</c>;
/// the top-level <c>code</c> and <c>message</c> repeat the inner ones for clients that read only those (twilio-node).
/// </summary>
internal sealed class KeyBrakeError(int status, string code, string message, Action<Utf8JsonWriter>? extra = null, bool? retryable = null) : IResult
{
    // Error messages quote paths and patterns; keep & ' + readable rather than \u-escaped.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public int Status => status;

    public string Code => code;

    /// <summary>
    /// Only faults of KeyBrake's own dependencies are worth retrying; a denial never is. An upstream failure is retryable
    /// only when its error says so (nothing was sent), so its code is not on this list.
    /// </summary>
    public static bool IsRetryable(string code) => code is "audit_unavailable" or "secret_unavailable" or "overloaded"
        or "revocation_pending" or "rate_limited" or "approval_required" or "approval_pending";

    public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext);

    public async Task WriteAsync(HttpContext context)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("type", "keybrake_error");
            writer.WriteString("code", code);
            writer.WriteString("message", message);
            writer.WriteString("request_id", RequestIds.Of(context));
            writer.WriteBoolean("retryable", retryable ?? IsRetryable(code));
            extra?.Invoke(writer);
            writer.WriteEndObject();
            writer.WriteString("code", code);
            writer.WriteString("message", message);
            writer.WriteEndObject();
        }
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = buffer.WrittenCount;
        response.Headers.CacheControl = "no-store";
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    public static KeyBrakeError InvalidRequest(IReadOnlyList<FieldError> fields) =>
        new(StatusCodes.Status400BadRequest, "invalid_request",
            $"Invalid request: {string.Join("; ", fields.Select(f => $"{f.Field}: {f.Message}"))}",
            writer =>
            {
                writer.WriteStartArray("fields");
                foreach (var field in fields)
                {
                    writer.WriteStartObject();
                    writer.WriteString("field", field.Field);
                    writer.WriteString("message", field.Message);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
            });
}

internal sealed record FieldError(string Field, string Message);

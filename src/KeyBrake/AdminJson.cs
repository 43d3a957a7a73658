using System.Text.Json;

namespace KeyBrake;

/// <summary>Reads an admin request body as JSON; a body that is not JSON is a 400 <c>invalid_request</c>, not a 500.</summary>
internal static class AdminJson
{
    private const int MaxBytes = 256 * 1024;

    public static async Task<(JsonElement Body, KeyBrakeError? Error)> ReadAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MaxBytes)
        {
            return (default, new KeyBrakeError(StatusCodes.Status413PayloadTooLarge, "body_too_large", $"Admin request bodies are at most {MaxBytes} bytes."));
        }
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            return (document.RootElement.Clone(), null);
        }
        catch (JsonException e)
        {
            return (default, KeyBrakeError.InvalidRequest([new FieldError("body", $"is not valid JSON ({e.Message})")]));
        }
    }

    public static IResult Ok(object value, int status = StatusCodes.Status200OK) =>
        Results.Json(value, KeyBrakeJson.Options, statusCode: status);
}

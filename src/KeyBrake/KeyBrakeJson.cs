using System.Text.Encodings.Web;
using System.Text.Json;

namespace KeyBrake;

internal static class KeyBrakeJson
{
    /// <summary>snake_case fields, nulls written (every field of the contract is always present).</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

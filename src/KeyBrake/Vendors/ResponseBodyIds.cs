using System.Text.Json;

namespace KeyBrake.Vendors;

/// <summary>
/// A vendor request id stated only in the response body (Resend's email id, <c>{"id":…}</c>, or a batch's
/// <c>{"data":[{"id":…},…]}</c>); every profile's default, so a Stripe or Twilio response without its request-id header
/// has its body's id recorded instead. The proxy reads only small JSON bodies; the bytes are forwarded untouched.
/// </summary>
internal static class ResponseBodyIds
{
    public static string? Find(byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            if (root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                return id.GetString();
            }
            if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
            {
                var ids = data.EnumerateArray()
                    .Where(item => item.ValueKind == JsonValueKind.Object && item.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String)
                    .Select(item => item.GetProperty("id").GetString()!)
                    .ToList();
                return ids.Count > 0 ? string.Join(',', ids) : null;
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

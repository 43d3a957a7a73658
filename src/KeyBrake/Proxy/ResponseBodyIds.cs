using System.IO.Compression;
using System.Text.Json;

namespace KeyBrake.Proxy;

/// <summary>
/// A vendor request id stated only in the response body (Resend's email id, <c>{"id":…}</c>, or a batch's
/// <c>{"data":[{"id":…},…]}</c>). Only small JSON bodies are read; the bytes are forwarded untouched.
/// </summary>
internal static class ResponseBodyIds
{
    public const int MaxBytes = 64 * 1024;

    /// <summary>The body as JSON bytes (decompressed for reading); null when it cannot be decoded.</summary>
    public static byte[]? Decoded(byte[] body, ICollection<string> contentEncoding)
    {
        try
        {
            return Decode(body, contentEncoding.LastOrDefault());
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return null;
        }
    }

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

    private static byte[] Decode(byte[] body, string? encoding)
    {
        Stream? decoder = encoding?.ToLowerInvariant() switch
        {
            "gzip" => new GZipStream(new MemoryStream(body), CompressionMode.Decompress),
            "br" => new BrotliStream(new MemoryStream(body), CompressionMode.Decompress),
            "deflate" => new ZLibStream(new MemoryStream(body), CompressionMode.Decompress),
            _ => null,
        };
        if (decoder is null)
        {
            return body;
        }
        using (decoder)
        using (var plain = new MemoryStream())
        {
            var chunk = new byte[8192];
            int read;
            while ((read = decoder.Read(chunk)) > 0)
            {
                if (plain.Length + read > 16 * MaxBytes)
                {
                    throw new InvalidDataException("Decompressed body too large to inspect.");
                }
                plain.Write(chunk, 0, read);
            }
            return plain.ToArray();
        }
    }
}

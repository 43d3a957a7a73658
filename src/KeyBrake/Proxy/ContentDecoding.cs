using System.IO.Compression;

namespace KeyBrake.Proxy;

/// <summary>
/// Decodes a small response body KeyBrake must read, strictly: no <c>Content-Encoding</c> (or <c>identity</c>), or one
/// of gzip, br, deflate — anything else (an unknown coding, a stack of codings, a corrupt stream, more than the limit
/// once decoded) is "cannot read", never "read the bytes as they are".
/// </summary>
internal static class ContentDecoding
{
    /// <returns>The plain bytes, or null when they cannot be read within <paramref name="maxBytes"/>.</returns>
    public static byte[]? Decode(byte[] body, ICollection<string> contentEncoding, int maxBytes)
    {
        string? coding = null;
        foreach (var value in contentEncoding)
        {
            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (part.Equals("identity", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                if (coding is not null)
                {
                    return null; // stacked codings: not worth the risk of reading them differently
                }
                coding = part.ToLowerInvariant();
            }
        }
        if (coding is null)
        {
            return body.Length <= maxBytes ? body : null;
        }
        try
        {
            using Stream? decoder = coding switch
            {
                "gzip" or "x-gzip" => new GZipStream(new MemoryStream(body), CompressionMode.Decompress),
                "br" => new BrotliStream(new MemoryStream(body), CompressionMode.Decompress),
                "deflate" => new ZLibStream(new MemoryStream(body), CompressionMode.Decompress),
                _ => null,
            };
            return decoder is null ? null : ReadAtMost(decoder, maxBytes);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return null;
        }
    }

    private static byte[]? ReadAtMost(Stream decoder, int maxBytes)
    {
        using var plain = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = decoder.Read(chunk)) > 0)
        {
            if (plain.Length + read > maxBytes)
            {
                return null; // a bomb, or simply too large to inspect
            }
            plain.Write(chunk, 0, read);
        }
        return plain.ToArray();
    }
}

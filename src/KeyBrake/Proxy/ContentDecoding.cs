using System.IO.Compression;

namespace KeyBrake.Proxy;

/// <summary>
/// Decodes a response body KeyBrake must read, strictly: no <c>Content-Encoding</c> (or <c>identity</c>), or one
/// of gzip, br, deflate — anything else (an unknown coding, a stack of codings, a corrupt stream, more than the limit
/// once decoded) is "cannot read", never "read the bytes as they are".
/// </summary>
internal static class ContentDecoding
{
    /// <returns>The plain bytes, or null when they cannot be read within <paramref name="maxBytes"/>.</returns>
    public static byte[]? Decode(byte[] body, ICollection<string> contentEncoding, int maxBytes)
    {
        if (!TryGetCoding(contentEncoding, out var coding))
        {
            return null;
        }
        if (coding is null)
        {
            return body.Length <= maxBytes ? body : null;
        }
        try
        {
            using var decoder = Decoder(new MemoryStream(body), coding);
            return decoder is null ? null : ReadAtMost(decoder, maxBytes);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return null;
        }
    }

    /// <returns>
    /// <paramref name="raw"/> decoded as it is read (itself when not encoded), or null for a coding that cannot be read.
    /// A corrupt stream throws <see cref="InvalidDataException"/> while it is read.
    /// </returns>
    public static Stream? DecodingStream(Stream raw, ICollection<string> contentEncoding) =>
        !TryGetCoding(contentEncoding, out var coding) ? null : coding is null ? raw : Decoder(raw, coding);

    /// <returns>False for stacked codings; else the one coding (lower case), null when there is none.</returns>
    private static bool TryGetCoding(ICollection<string> contentEncoding, out string? coding)
    {
        coding = null;
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
                    return false; // stacked codings: not worth the risk of reading them differently
                }
                coding = part.ToLowerInvariant();
            }
        }
        return true;
    }

    private static Stream? Decoder(Stream raw, string coding) => coding switch
    {
        "gzip" or "x-gzip" => new GZipStream(raw, CompressionMode.Decompress),
        "br" => new BrotliStream(raw, CompressionMode.Decompress),
        "deflate" => new ZLibStream(raw, CompressionMode.Decompress),
        _ => null,
    };

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

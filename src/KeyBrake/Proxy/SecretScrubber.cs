using System.Collections.Concurrent;
using System.Text;
using System.Text.Encodings.Web;
using KeyBrake.Vendors;
using Microsoft.Extensions.Primitives;

namespace KeyBrake.Proxy;

/// <summary>
/// SPEC §4 step 11: the vendor secret never reaches the agent. An upstream may echo what it received — the secret in a
/// <c>Location</c>, an error body quoting the Authorization header — so every response header, and the body of every
/// 3xx/4xx/5xx, has each form the secret may take there replaced by <c>[redacted]</c>: the secret itself, Twilio's
/// Basic credential (base64 of <c>AccountSid:secret</c>), and each of those percent-encoded (a URL) or JSON-escaped
/// (<c>\u002B</c>, <c>\/</c>). Built from the upstream Authorization value, once per credential and vendor.
/// </summary>
internal sealed class SecretScrubber
{
    public const string Redacted = "[redacted]";

    private static readonly byte[] RedactedUtf8 = Encoding.UTF8.GetBytes(Redacted);
    private static readonly ConcurrentDictionary<string, SecretScrubber> ByVendor = new(StringComparer.Ordinal);

    private readonly string _credential;
    private readonly string[] _needles;
    private readonly byte[][] _needlesUtf8;
    private readonly int _longestNeedleBytes;

    private SecretScrubber(string credential)
    {
        _credential = credential;
        _needles = [.. Forms(credential).Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).OrderByDescending(n => n.Length)];
        _needlesUtf8 = [.. _needles.Select(Encoding.UTF8.GetBytes)];
        _longestNeedleBytes = Math.Max(1, _needlesUtf8.Max(n => n.Length));
    }

    /// <summary>The scrubber for <paramref name="credential"/> (the upstream Authorization value), cached per vendor.</summary>
    public static SecretScrubber For(string vendor, string credential)
    {
        if (ByVendor.TryGetValue(vendor, out var cached) && string.Equals(cached._credential, credential, StringComparison.Ordinal))
        {
            return cached;
        }
        var made = new SecretScrubber(credential);
        ByVendor[vendor] = made; // a rotated secret replaces the old one
        return made;
    }

    /// <summary>Replaces every form of the secret in the header values.</summary>
    public void Scrub(IHeaderDictionary headers)
    {
        List<KeyValuePair<string, StringValues>>? changed = null;
        foreach (var header in headers)
        {
            if (Contains(header.Value))
            {
                (changed ??= []).Add(new(header.Key, Replace(header.Value)));
            }
        }
        foreach (var (name, value) in changed ?? [])
        {
            headers[name] = value;
        }
    }

    /// <returns>The body with every form of the secret replaced, or the same array when it holds none.</returns>
    public byte[] Scrub(byte[] body)
    {
        foreach (var needle in _needlesUtf8)
        {
            var at = body.AsSpan().IndexOf(needle);
            if (at < 0)
            {
                continue;
            }
            using var output = new MemoryStream(body.Length);
            var rest = body.AsSpan();
            while (at >= 0)
            {
                output.Write(rest[..at]);
                output.Write(RedactedUtf8);
                rest = rest[(at + needle.Length)..];
                at = rest.IndexOf(needle);
            }
            output.Write(rest);
            body = output.ToArray();
        }
        return body;
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> with every form of the secret replaced, for
    /// a body of any size: each window holds back its last (longest form − 1) bytes, so a form split across two reads
    /// is whole in the next window, and a form that starts before the held-back bytes ends inside the window.
    /// </summary>
    public async Task CopyScrubbedAsync(Stream source, Stream destination, CancellationToken cancellationToken)
    {
        var keep = _longestNeedleBytes - 1;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Max(64 * 1024, 4 * _longestNeedleBytes));
        try
        {
            var length = 0;
            int read;
            do
            {
                read = await source.ReadAsync(buffer.AsMemory(length), cancellationToken);
                length += read;
                var safe = read == 0 ? length : length - keep; // bytes before this may go out: no form starting there is cut off
                var at = 0;
                while (NextMatch(buffer.AsSpan(at, length - at), out var needleLength) is var match and >= 0 && at + match < safe)
                {
                    await destination.WriteAsync(buffer.AsMemory(at, match), cancellationToken);
                    await destination.WriteAsync(RedactedUtf8, cancellationToken);
                    at += match + needleLength;
                }
                if (at < safe)
                {
                    await destination.WriteAsync(buffer.AsMemory(at, safe - at), cancellationToken);
                    at = safe;
                }
                buffer.AsSpan(at, length - at).CopyTo(buffer); // at most `keep` bytes carried into the next window
                length -= at;
            }
            while (read > 0);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <returns>Where the first form of the secret starts (the longest form at that place), or -1.</returns>
    private int NextMatch(ReadOnlySpan<byte> data, out int needleLength)
    {
        var first = -1;
        needleLength = 0;
        foreach (var needle in _needlesUtf8) // longest first: at a tie the longer form wins
        {
            var at = data.IndexOf(needle);
            if (at >= 0 && (first < 0 || at < first))
            {
                first = at;
                needleLength = needle.Length;
            }
        }
        return first;
    }

    private bool Contains(StringValues values)
    {
        foreach (var value in values)
        {
            foreach (var needle in _needles)
            {
                if (value is not null && value.Contains(needle, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private StringValues Replace(StringValues values)
    {
        var replaced = new string?[values.Count];
        for (var i = 0; i < replaced.Length; i++)
        {
            var value = values[i];
            foreach (var needle in _needles)
            {
                value = value?.Replace(needle, Redacted, StringComparison.Ordinal);
            }
            replaced[i] = value;
        }
        return new StringValues(replaced);
    }

    /// <summary>Each secret the credential holds (Twilio's Basic: the value and the token in it), as sent, percent-encoded and JSON-escaped.</summary>
    private static IEnumerable<string> Forms(string credential)
    {
        foreach (var secret in VendorCredential.Secrets(credential))
        {
            yield return secret;
            var escaped = Uri.EscapeDataString(secret);
            yield return escaped;
            yield return LowerPercentHex(escaped);
            var json = JavaScriptEncoder.Default.Encode(secret);
            yield return json;
            yield return json.Replace("/", "\\/", StringComparison.Ordinal);
            yield return secret.Replace("/", "\\/", StringComparison.Ordinal);
        }
    }

    private static string LowerPercentHex(string escaped)
    {
        var chars = escaped.ToCharArray();
        for (var i = 0; i + 2 < chars.Length; i++)
        {
            if (chars[i] == '%')
            {
                chars[i + 1] = char.ToLowerInvariant(chars[i + 1]);
                chars[i + 2] = char.ToLowerInvariant(chars[i + 2]);
            }
        }
        return new string(chars);
    }
}

// The canonical (RFC 8785) byte form of an audit entry, written directly in JCS key order, and its SHA-256.
// Every value in an entry is a string, an integer, null or the already-canonical details object, so the
// general canonicalizer (Jcs) is not needed on the hot path; AuditHashTests prove both agree.
using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace KeyBrake.Audit;

public static class AuditHash
{
    /// <summary>The <c>prev_hash</c> of seq 1.</summary>
    public static readonly string Genesis = new('0', 64);

    private static readonly SearchValues<char> MustEscape = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000a\u000b\u000c\u000d\u000e\u000f" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f");

    [ThreadStatic]
    private static ByteBuffer? t_buffer;

    /// <summary>Lowercase hex SHA-256 of the canonical form of <paramref name="entry"/> without <c>hash</c>.</summary>
    public static string Compute(AuditEntry entry)
    {
        var buffer = t_buffer ??= new ByteBuffer(1024);
        buffer.Reset();
        WriteCanonical(buffer, entry, includeHash: false);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(buffer.Written, digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>The canonical JSON of the whole entry, <c>hash</c> included: an NDJSON export line, an API item.</summary>
    public static string ToJson(AuditEntry entry)
    {
        var buffer = t_buffer ??= new ByteBuffer(1024);
        buffer.Reset();
        WriteCanonical(buffer, entry, includeHash: true);
        return Encoding.UTF8.GetString(buffer.Written);
    }

    /// <summary>Writes the canonical UTF-8 JSON of the entry (with or without <c>hash</c>) into <paramref name="buffer"/>.</summary>
    public static void WriteCanonical(ByteBuffer buffer, AuditEntry entry, bool includeHash)
    {
        // Keys in RFC 8785 order (UTF-16 code units, all ASCII here).
        buffer.Append("{\"actor\":"u8); String(buffer, entry.Actor);
        buffer.Append(",\"cost_usd_micros\":"u8); Number(buffer, entry.CostUsdMicros);
        buffer.Append(",\"decision\":"u8); String(buffer, entry.Decision);
        buffer.Append(",\"details\":"u8);
        if (entry.Details is null)
        {
            buffer.Append("null"u8);
        }
        else
        {
            buffer.AppendUtf8(entry.Details);
        }
        if (includeHash)
        {
            buffer.Append(",\"hash\":"u8); String(buffer, entry.Hash);
        }
        buffer.Append(",\"http_status\":"u8); Number(buffer, entry.HttpStatus);
        buffer.Append(",\"key_id\":"u8); String(buffer, entry.KeyId);
        buffer.Append(",\"label\":"u8); String(buffer, entry.Label);
        buffer.Append(",\"method\":"u8); String(buffer, entry.Method);
        buffer.Append(",\"outcome\":"u8); String(buffer, entry.Outcome);
        buffer.Append(",\"path\":"u8); String(buffer, entry.Path);
        buffer.Append(",\"policy_hash\":"u8); String(buffer, entry.PolicyHash);
        buffer.Append(",\"prev_hash\":"u8); String(buffer, entry.PrevHash);
        buffer.Append(",\"reason\":"u8); String(buffer, entry.Reason);
        buffer.Append(",\"request_id\":"u8); String(buffer, entry.RequestId);
        buffer.Append(",\"run_seq\":"u8); Number(buffer, entry.RunSeq);
        buffer.Append(",\"seq\":"u8); Number(buffer, entry.Seq);
        buffer.Append(",\"ts\":"u8); String(buffer, entry.Ts);
        buffer.Append(",\"type\":"u8); String(buffer, entry.Type);
        buffer.Append(",\"vendor\":"u8); String(buffer, entry.Vendor);
        buffer.Append(",\"vendor_request_id\":"u8); String(buffer, entry.VendorRequestId);
        buffer.Append("}"u8);
    }

    private static void Number(ByteBuffer buffer, long? value)
    {
        if (value is not { } v)
        {
            buffer.Append("null"u8);
            return;
        }
        var span = buffer.GetSpan(20);
        Utf8Formatter.TryFormat(v, span, out var written);
        buffer.Advance(written);
    }

    private static void String(ByteBuffer buffer, string? value)
    {
        if (value is null)
        {
            buffer.Append("null"u8);
            return;
        }
        buffer.Append("\""u8);
        var rest = value.AsSpan();
        int index;
        while ((index = rest.IndexOfAny(MustEscape)) >= 0)
        {
            buffer.AppendUtf8(rest[..index]);
            buffer.Append(rest[index] switch
            {
                '"' => "\\\""u8,
                '\\' => "\\\\"u8,
                '\b' => "\\b"u8,
                '\f' => "\\f"u8,
                '\n' => "\\n"u8,
                '\r' => "\\r"u8,
                '\t' => "\\t"u8,
                _ => [],
            });
            if (rest[index] < 0x20 && rest[index] is not ('\b' or '\f' or '\n' or '\r' or '\t'))
            {
                var span = buffer.GetSpan(6);
                "\\u00"u8.CopyTo(span);
                span[4] = HexDigit(rest[index] >> 4);
                span[5] = HexDigit(rest[index] & 0xf);
                buffer.Advance(6);
            }
            rest = rest[(index + 1)..];
        }
        buffer.AppendUtf8(rest);
        buffer.Append("\""u8);
    }

    private static byte HexDigit(int value) => (byte)(value < 10 ? '0' + value : 'a' + value - 10);
}

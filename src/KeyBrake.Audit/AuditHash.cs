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

    private static readonly SearchValues<byte> MustEscape = SearchValues.Create(
        [(byte)'"', (byte)'\\', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31]);

    [ThreadStatic]
    private static ByteBuffer? t_buffer;

    [ThreadStatic]
    private static ByteBuffer? t_scratch;

    /// <summary>Lowercase hex SHA-256 of the canonical form of <paramref name="entry"/> without <c>hash</c>.</summary>
    public static string Compute(AuditEntry entry)
    {
        Span<byte> hex = stackalloc byte[64];
        var fields = new EntryFields(entry);
        ComputeHex(ref fields, hex);
        return Encoding.ASCII.GetString(hex);
    }

    /// <summary>Writes the lowercase hex SHA-256 of the canonical form (without <c>hash</c>) as 64 ASCII bytes.</summary>
    public static void ComputeHex<TFields>(ref TFields fields, scoped Span<byte> hex)
        where TFields : IEntryFields, allows ref struct
    {
        var buffer = t_buffer ??= new ByteBuffer(1024);
        buffer.Reset();
        WriteCanonical(buffer, ref fields, includeHash: false);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(buffer.Written, digest);
        for (var i = 0; i < 32; i++)
        {
            hex[2 * i] = HexDigit(digest[i] >> 4);
            hex[(2 * i) + 1] = HexDigit(digest[i] & 0xf);
        }
    }

    /// <summary>The canonical JSON of the whole entry, <c>hash</c> included: an NDJSON export line, an API item.</summary>
    public static string ToJson(AuditEntry entry)
    {
        var buffer = t_buffer ??= new ByteBuffer(1024);
        buffer.Reset();
        var fields = new EntryFields(entry);
        WriteCanonical(buffer, ref fields, includeHash: true);
        return Encoding.UTF8.GetString(buffer.Written);
    }

    /// <summary>Writes the canonical UTF-8 JSON of the entry (with or without <c>hash</c>) into <paramref name="buffer"/>.</summary>
    public static void WriteCanonical<TFields>(ByteBuffer buffer, ref TFields f, bool includeHash)
        where TFields : IEntryFields, allows ref struct
    {
        // Keys in RFC 8785 order (UTF-16 code units, all ASCII here).
        buffer.Append("{\"actor\":"u8); String(buffer, ref f, Fields.Actor);
        buffer.Append(",\"cost_usd_micros\":"u8); Number(buffer, ref f, Fields.CostUsdMicros);
        buffer.Append(",\"decision\":"u8); String(buffer, ref f, Fields.Decision);
        buffer.Append(",\"details\":"u8);
        var details = f.Utf8(Fields.Details);
        if (details.IsEmpty && f.IsNull(Fields.Details))
        {
            buffer.Append("null"u8);
        }
        else
        {
            buffer.Append(details); // already canonical JSON
        }
        if (includeHash)
        {
            buffer.Append(",\"hash\":"u8); String(buffer, ref f, Fields.Hash);
        }
        buffer.Append(",\"http_status\":"u8); Number(buffer, ref f, Fields.HttpStatus);
        buffer.Append(",\"key_id\":"u8); String(buffer, ref f, Fields.KeyId);
        buffer.Append(",\"label\":"u8); String(buffer, ref f, Fields.Label);
        buffer.Append(",\"method\":"u8); String(buffer, ref f, Fields.Method);
        buffer.Append(",\"outcome\":"u8); String(buffer, ref f, Fields.Outcome);
        buffer.Append(",\"path\":"u8); String(buffer, ref f, Fields.Path);
        buffer.Append(",\"policy_hash\":"u8); String(buffer, ref f, Fields.PolicyHash);
        buffer.Append(",\"prev_hash\":"u8); String(buffer, ref f, Fields.PrevHash);
        buffer.Append(",\"reason\":"u8); String(buffer, ref f, Fields.Reason);
        buffer.Append(",\"request_id\":"u8); String(buffer, ref f, Fields.RequestId);
        buffer.Append(",\"run_seq\":"u8); Number(buffer, ref f, Fields.RunSeq);
        buffer.Append(",\"seq\":"u8); Number(buffer, ref f, Fields.Seq);
        buffer.Append(",\"ts\":"u8); String(buffer, ref f, Fields.Ts);
        buffer.Append(",\"type\":"u8); String(buffer, ref f, Fields.Type);
        buffer.Append(",\"vendor\":"u8); String(buffer, ref f, Fields.Vendor);
        buffer.Append(",\"vendor_request_id\":"u8); String(buffer, ref f, Fields.VendorRequestId);
        buffer.Append("}"u8);
    }

    private static void Number<TFields>(ByteBuffer buffer, ref TFields f, int field)
        where TFields : IEntryFields, allows ref struct
    {
        if (f.IsNull(field))
        {
            buffer.Append("null"u8);
            return;
        }
        var span = buffer.GetSpan(20);
        Utf8Formatter.TryFormat(f.Number(field), span, out var written);
        buffer.Advance(written);
    }

    /// <summary>A JSON string per RFC 8785: only <c>"</c>, <c>\\</c> and control characters are escaped. Works on UTF-8
    /// bytes: a multi-byte sequence never contains a byte below 0x80, so the bytes to escape are found the same way.</summary>
    private static void String<TFields>(ByteBuffer buffer, ref TFields f, int field)
        where TFields : IEntryFields, allows ref struct
    {
        // Text first: only an empty value needs the second look that tells null from "".
        var rest = f.Utf8(field);
        if (rest.IsEmpty && f.IsNull(field))
        {
            buffer.Append("null"u8);
            return;
        }
        buffer.Append("\""u8);
        int index;
        while ((index = rest.IndexOfAny(MustEscape)) >= 0)
        {
            buffer.Append(rest[..index]);
            var b = rest[index];
            buffer.Append(b switch
            {
                (byte)'"' => "\\\""u8,
                (byte)'\\' => "\\\\"u8,
                (byte)'\b' => "\\b"u8,
                (byte)'\f' => "\\f"u8,
                (byte)'\n' => "\\n"u8,
                (byte)'\r' => "\\r"u8,
                (byte)'\t' => "\\t"u8,
                _ => [],
            });
            if (b < 0x20 && b is not ((byte)'\b' or (byte)'\f' or (byte)'\n' or (byte)'\r' or (byte)'\t'))
            {
                var span = buffer.GetSpan(6);
                "\\u00"u8.CopyTo(span);
                span[4] = HexDigit(b >> 4);
                span[5] = HexDigit(b & 0xf);
                buffer.Advance(6);
            }
            rest = rest[(index + 1)..];
        }
        buffer.Append(rest);
        buffer.Append("\""u8);
    }

    private static byte HexDigit(int value) => (byte)(value < 10 ? '0' + value : 'a' + value - 10);

    /// <summary>An <see cref="AuditEntry"/>'s fields, each text encoded to UTF-8 when asked for.</summary>
    private readonly ref struct EntryFields(AuditEntry entry) : IEntryFields
    {
        public bool IsNull(int field) => field switch
        {
            Fields.Seq => false,
            Fields.RunSeq => entry.RunSeq is null,
            Fields.CostUsdMicros => entry.CostUsdMicros is null,
            Fields.HttpStatus => entry.HttpStatus is null,
            _ => Text(field) is null,
        };

        public long Number(int field) => field switch
        {
            Fields.Seq => entry.Seq,
            Fields.RunSeq => entry.RunSeq!.Value,
            Fields.CostUsdMicros => entry.CostUsdMicros!.Value,
            Fields.HttpStatus => entry.HttpStatus!.Value,
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };

        public ReadOnlySpan<byte> Utf8(int field)
        {
            var text = Text(field);
            if (text is null)
            {
                return [];
            }
            var scratch = t_scratch ??= new ByteBuffer(256);
            scratch.Reset();
            scratch.AppendUtf8(text);
            return scratch.Written;
        }

        private string? Text(int field) => field switch
        {
            Fields.Ts => entry.Ts,
            Fields.Type => entry.Type,
            Fields.RequestId => entry.RequestId,
            Fields.KeyId => entry.KeyId,
            Fields.Label => entry.Label,
            Fields.Actor => entry.Actor,
            Fields.Vendor => entry.Vendor,
            Fields.Method => entry.Method,
            Fields.Path => entry.Path,
            Fields.Decision => entry.Decision,
            Fields.Outcome => entry.Outcome,
            Fields.VendorRequestId => entry.VendorRequestId,
            Fields.Reason => entry.Reason,
            Fields.PolicyHash => entry.PolicyHash,
            Fields.Details => entry.Details,
            Fields.PrevHash => entry.PrevHash,
            Fields.Hash => entry.Hash,
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
    }
}

// RFC 8785 JSON Canonicalization Scheme: the byte form that policy hashes and audit hashes are taken over,
// so that any JCS implementation in any language reproduces them.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace KeyBrake.Audit;

public static class Jcs
{
    public static string Canonicalize(JsonElement element)
    {
        var builder = new StringBuilder(256);
        Write(builder, element);
        return builder.ToString();
    }

    public static string Canonicalize(string json)
    {
        using var document = JsonDocument.Parse(json);
        return Canonicalize(document.RootElement);
    }

    /// <summary>Lowercase hex SHA-256 of the UTF-8 canonical form.</summary>
    public static string Sha256Hex(JsonElement element) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonicalize(element))));

    private static void Write(StringBuilder sb, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                // Properties sorted by their names' UTF-16 code units (RFC 8785 §3.2.3).
                var properties = element.EnumerateObject().ToList();
                properties.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
                sb.Append('{');
                for (var i = 0; i < properties.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }
                    WriteString(sb, properties[i].Name);
                    sb.Append(':');
                    Write(sb, properties[i].Value);
                }
                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }
                    first = false;
                    Write(sb, item);
                }
                sb.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(sb, element.GetString()!);
                break;
            case JsonValueKind.Number:
                sb.Append(FormatNumber(element.GetDouble()));
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            default:
                throw new ArgumentException($"Cannot canonicalize a JSON {element.ValueKind}.", nameof(element));
        }
    }

    private static void WriteString(StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>ECMAScript Number.prototype.toString for a double (RFC 8785 §3.2.2.3).</summary>
    public static string FormatNumber(double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            throw new ArgumentException("NaN and Infinity have no JSON form.", nameof(value));
        }
        if (value == 0)
        {
            return "0"; // also for -0
        }

        // "R" yields the shortest digits that round-trip, as ECMAScript requires; re-lay them out per ES rules.
        var shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var (digits, pointPosition) = Decompose(shortest);
        var k = digits.Length;
        var n = pointPosition;
        var sb = new StringBuilder(32);
        if (value < 0)
        {
            sb.Append('-');
        }
        if (k <= n && n <= 21)
        {
            sb.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            var e = n - 1;
            sb.Append(digits[0]);
            if (k > 1)
            {
                sb.Append('.').Append(digits, 1, k - 1);
            }
            sb.Append('e').Append(e >= 0 ? '+' : '-').Append(Math.Abs(e).ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    // Splits "123.45", "1.5E-07" or "1E+21" into significant digits and the position of the decimal point
    // relative to the first of them (ECMAScript's n).
    private static (string Digits, int PointPosition) Decompose(string text)
    {
        var exponent = 0;
        var ePos = text.IndexOfAny(['E', 'e']);
        if (ePos >= 0)
        {
            exponent = int.Parse(text.AsSpan(ePos + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..ePos];
        }
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var intPart = dot >= 0 ? text[..dot] : text;
        var fracPart = dot >= 0 ? text[(dot + 1)..] : string.Empty;
        var all = intPart + fracPart;
        var point = intPart.Length + exponent;
        var leading = 0;
        while (leading < all.Length - 1 && all[leading] == '0')
        {
            leading++;
        }
        all = all[leading..];
        point -= leading;
        all = all.TrimEnd('0');
        return (all.Length == 0 ? "0" : all, point);
    }
}

using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace KeyBrake.Spend.Pricing;

/// <summary>
/// The fields of a request, from its query string and its body (form-encoded or a JSON object), parsed once from the
/// buffered bytes (which are forwarded untouched), the strictest way (SPEC §5 "one reading of a body"): anything
/// another parser could read differently fails the parse, and pricing answers 422 <c>unpriceable_request</c>.
/// Refused: any <c>Content-Encoding</c>; a charset other than UTF-8 or bytes that are not UTF-8; a form or query that
/// is not percent-encoded ASCII, uses <c>;</c>, or has a key that is not <c>name</c> or <c>name[sub]…</c> (Rack reads
/// <c>[amount]</c> as <c>amount</c>); a key given both as <c>name</c> and <c>name[…]</c>; JSON with a duplicated
/// member at any depth. Names are compared case-insensitively and after percent-decoding, so <c>%61mount</c>,
/// <c>Amount</c> and <c>amount</c> are one field; a field given twice (body, query, or both) is recorded, and the
/// vendor's pricing refuses it unless it is a list whose length does not change the price (<see cref="Repeated"/>).
/// </summary>
internal sealed class RequestFields
{
    private static readonly JsonDocumentOptions StrictJson = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    private readonly Dictionary<string, List<string>> _fields = new(StringComparer.OrdinalIgnoreCase);
    private HashSet<string>? _branches; // proper prefixes of bracketed keys: "a" and "a[b]" for "a[b][c]"
    private List<string>? _repeated;

    private RequestFields()
    {
    }

    /// <summary>Null with <paramref name="error"/> set when the request cannot be read one way only.</summary>
    /// <param name="contentEncoding">The request's <c>Content-Encoding</c> (null when absent).</param>
    public static RequestFields? Parse(string? contentType, string? contentEncoding, ReadOnlyMemory<byte> body, string? queryString, out string? error)
    {
        if (contentEncoding is not null)
        {
            error = "the request has a Content-Encoding; KeyBrake prices only bodies sent as they are (no gzip, deflate, br or identity header)";
            return null;
        }
        if (!TryReadMediaType(contentType, out var mediaType, out error))
        {
            return null;
        }
        var fields = new RequestFields();
        if (!fields.TryAddForm(queryString is ['?', ..] ? queryString[1..] : queryString ?? "", "query string", out error))
        {
            return null;
        }
        if (body.IsEmpty)
        {
            return fields;
        }
        if (!Utf8.IsValid(body.Span) || body.Span.StartsWith("\uFEFF"u8))
        {
            error = "the body is not UTF-8 (or starts with a byte-order mark)";
            return null;
        }
        switch (mediaType)
        {
            case "application/x-www-form-urlencoded":
                return fields.TryAddForm(Encoding.UTF8.GetString(body.Span), "body", out error) ? fields : null;
            case "application/json":
                return fields.TryAddJson(body, out error) ? fields : null;
            default:
                fields.Unparsed = true;
                return fields;
        }
    }

    /// <summary>The JSON body, when it was JSON (Resend's batch is an array).</summary>
    public JsonElement? Json { get; private set; }

    /// <summary>A body in a format pricing does not read (neither form nor JSON).</summary>
    public bool Unparsed { get; private set; }

    public bool Has(string name) => _fields.ContainsKey(name);

    public IEnumerable<string> Names => _fields.Keys;

    public IReadOnlyList<string> All(string name) => _fields.TryGetValue(name, out var values) ? values : [];

    /// <summary>The single value of a field; false with <paramref name="error"/> when it is given more than once.</summary>
    public bool TryGetSingle(string name, out string? value, out string? error)
    {
        var values = All(name);
        value = values.Count == 1 ? values[0] : null;
        error = values.Count > 1 ? $"'{name}' is given {values.Count} times (in the body, or in both the query string and the body)" : null;
        return error is null;
    }

    /// <summary>Why the fields are ambiguous: a field given more than once, other than the vendor's <paramref name="lists"/>.</summary>
    public string? Repeated(IReadOnlySet<string>? lists = null)
    {
        var name = _repeated?.FirstOrDefault(n => lists?.Contains(n) != true);
        return name is null ? null
            : $"'{Shown(name)}' is given more than once (in the body, the query string or both, in some spelling), so the vendor might read another value";
    }

    /// <summary>Media type, lower case; only a UTF-8 charset is accepted (also as RFC 2231 <c>charset*</c>), and only once.</summary>
    private static bool TryReadMediaType(string? contentType, out string? mediaType, out string? error)
    {
        mediaType = null;
        error = null;
        if (contentType is null)
        {
            return true;
        }
        var parts = contentType.Split(';');
        mediaType = parts[0].Trim().ToLowerInvariant();
        var charsets = 0;
        foreach (var parameter in parts.AsSpan(1))
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            var name = (equals < 0 ? parameter : parameter[..equals]).Trim();
            if (!name.StartsWith("charset", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            var value = equals < 0 ? "" : parameter[(equals + 1)..].Trim();
            if (++charsets > 1 || !name.Equals("charset", StringComparison.OrdinalIgnoreCase)
                || !(value.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || value.Equals("\"utf-8\"", StringComparison.OrdinalIgnoreCase)))
            {
                error = "the Content-Type names a charset other than UTF-8 (once, as charset=utf-8)";
                return false;
            }
        }
        return true;
    }

    private bool TryAddForm(string form, string where, out string? error)
    {
        error = null;
        foreach (var c in form)
        {
            if (c == ';')
            {
                error = $"the {where} uses ';', which some parsers read as a separator; only '&' separates fields (send ';' as %3B)";
                return false;
            }
            if (c is < '!' or > '~')
            {
                error = $"the {where} is not percent-encoded ASCII";
                return false;
            }
        }
        foreach (var pair in form.Split('&'))
        {
            if (pair.Length == 0)
            {
                continue; // "a=1&&b=2": every parser skips an empty pair
            }
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (!TryDecode(equals < 0 ? pair : pair[..equals], out var name) || !TryDecode(equals < 0 ? "" : pair[(equals + 1)..], out var value))
            {
                error = $"the {where} has a bad percent-encoding or one that is not UTF-8";
                return false;
            }
            if (!IsKey(name))
            {
                error = $"the {where} has the key '{Shown(name)}', which is not name or name[sub]… (no empty or leading '[', no [], balanced brackets)";
                return false;
            }
            if (!TryAdd(name, value, out error))
            {
                return false;
            }
        }
        return true;
    }

    private bool TryAddJson(ReadOnlyMemory<byte> body, out string? error)
    {
        error = null;
        try
        {
            using var document = JsonDocument.Parse(body, StrictJson);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (!TryAdd(property.Name, property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText(), out error))
                    {
                        return false;
                    }
                }
            }
            Json = document.RootElement.Clone();
            return true;
        }
        catch (JsonException e)
        {
            error = $"the JSON body does not parse one way only ({e.Message})";
            return false;
        }
        catch (InvalidOperationException)
        {
            error = "the JSON body has a string that is not valid Unicode";
            return false;
        }
    }

    /// <summary>Adds a field; a key that is both a value and a parent (<c>a=1&amp;a[b]=2</c>) is refused outright.</summary>
    private bool TryAdd(string name, string value, out string? error)
    {
        error = null;
        var conflict = _branches?.Contains(name) == true;
        for (var open = name.IndexOf('[', StringComparison.Ordinal); open > 0 && !conflict; open = name.IndexOf('[', open + 1))
        {
            conflict = _fields.ContainsKey(name[..open]);
            (_branches ??= new(StringComparer.OrdinalIgnoreCase)).Add(name[..open]);
        }
        if (conflict)
        {
            error = $"'{Shown(name)}' is given both as a value and as a parent of other fields";
            return false;
        }
        if (!_fields.TryGetValue(name, out var values))
        {
            _fields[name] = values = [];
        }
        else if (values.Count == 1)
        {
            (_repeated ??= []).Add(name);
        }
        values.Add(value);
        return true;
    }

    /// <summary><c>name</c> or <c>name[sub]…</c>: a name with no bracket, then bracketed non-empty parts with no bracket inside.</summary>
    private static bool IsKey(string key)
    {
        var open = key.IndexOf('[', StringComparison.Ordinal);
        var root = open < 0 ? key : key[..open];
        if (root.Length == 0 || root.Contains(']', StringComparison.Ordinal))
        {
            return false;
        }
        for (var i = open; i >= 0 && i < key.Length;)
        {
            var close = key.IndexOf(']', i + 1);
            if (key[i] != '[' || close <= i + 1 || key.AsSpan(i + 1, close - i - 1).Contains('['))
            {
                return false;
            }
            i = close + 1;
        }
        return true;
    }

    /// <summary>Form decoding: '+' is a space, '%' takes exactly two hex digits, and the bytes must be UTF-8.</summary>
    private static bool TryDecode(string text, out string value)
    {
        if (text.AsSpan().IndexOfAny('%', '+') < 0)
        {
            value = text;
            return true;
        }
        value = "";
        var bytes = new byte[text.Length];
        var length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '%')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                {
                    return false;
                }
                bytes[length++] = (byte)Convert.ToInt32(text.Substring(i + 1, 2), 16);
                i += 2;
            }
            else
            {
                bytes[length++] = c == '+' ? (byte)' ' : (byte)c;
            }
        }
        if (!Utf8.IsValid(bytes.AsSpan(0, length)))
        {
            return false;
        }
        value = Encoding.UTF8.GetString(bytes, 0, length);
        return true;
    }

    /// <summary>An agent's field name as errors show it: bounded, so a huge key cannot swell the audit entry.</summary>
    public static string Shown(string name) => name.Length <= 40 ? name : name[..40] + "…";
}

using System.Text.Json;

namespace KeyBrake.Audit;

/// <summary>
/// Builds an entry's <c>details</c> object as canonical JSON (RFC 8785). SPEC §7 wants integers only, so a number
/// that is not an integer JCS can carry exactly (|n| ≤ 2^53 − 1) is kept as its JSON text in a string.
/// </summary>
internal sealed class Details
{
    private const long MaxSafeInteger = (1L << 53) - 1;
    private readonly List<(string Name, Action<Utf8JsonWriter> Write)> _members = [];

    public static string Object(Func<Details, Details> build) => build(new Details()).ToCanonicalJson();

    public Details Add(string name, string? value) => Member(name, w => WriteString(w, value));

    public Details Add(string name, long? value) => Member(name, w =>
    {
        if (value is { } v)
        {
            w.WriteNumberValue(v);
        }
        else
        {
            w.WriteNullValue();
        }
    });

    public Details Add(string name, IEnumerable<string>? values) => Member(name, w =>
    {
        if (values is null)
        {
            w.WriteNullValue();
            return;
        }
        w.WriteStartArray();
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }
        w.WriteEndArray();
    });

    public Details Add(string name, Details? nested) => Member(name, w =>
    {
        if (nested is null)
        {
            w.WriteNullValue();
        }
        else
        {
            nested.WriteTo(w);
        }
    });

    /// <summary>Copies a JSON value (e.g. a key's metadata), turning numbers JCS cannot carry exactly into strings.</summary>
    public Details Add(string name, JsonElement value) => Member(name, w => WriteIntegersOnly(w, value));

    public bool IsEmpty => _members.Count == 0;

    private Details Member(string name, Action<Utf8JsonWriter> write)
    {
        _members.Add((name, write));
        return this;
    }

    private void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var (name, write) in _members)
        {
            writer.WritePropertyName(name);
            write(writer);
        }
        writer.WriteEndObject();
    }

    private string ToCanonicalJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteTo(writer);
        }
        return Jcs.Canonicalize(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static void WriteString(Utf8JsonWriter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }

    private static void WriteIntegersOnly(Utf8JsonWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in value.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    WriteIntegersOnly(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    WriteIntegersOnly(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsonValueKind.Number when value.TryGetInt64(out var n) && n is >= -MaxSafeInteger and <= MaxSafeInteger:
                writer.WriteNumberValue(n);
                break;
            case JsonValueKind.Number:
                writer.WriteStringValue(value.GetRawText());
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }
}

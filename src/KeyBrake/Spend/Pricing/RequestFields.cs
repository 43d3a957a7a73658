using System.Text;
using System.Text.Json;

namespace KeyBrake.Spend.Pricing;

/// <summary>
/// The top-level fields of a request, from its query string and its body (form-encoded or a JSON object), parsed once
/// from the buffered bytes (which are forwarded untouched). A field given twice, or in both the query and the body,
/// is ambiguous: the vendor might read the other value, so pricing refuses it.
/// </summary>
internal sealed class RequestFields
{
    private readonly Dictionary<string, List<string>> _fields = new(StringComparer.Ordinal);

    private RequestFields()
    {
    }

    /// <summary>Null with <paramref name="error"/> set when the body claims a format it does not have.</summary>
    public static RequestFields? Parse(string? contentType, ReadOnlySpan<byte> body, string? queryString, out string? error)
    {
        error = null;
        var fields = new RequestFields();
        fields.AddForm(queryString?.TrimStart('?') ?? "");
        var mediaType = contentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (body.IsEmpty)
        {
            return fields;
        }
        switch (mediaType)
        {
            case "application/x-www-form-urlencoded":
                fields.AddForm(Encoding.UTF8.GetString(body));
                return fields;
            case "application/json":
                try
                {
                    using var document = JsonDocument.Parse(body.ToArray());
                    if (document.RootElement.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var property in document.RootElement.EnumerateObject())
                        {
                            fields.Add(property.Name, property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText());
                        }
                    }
                    fields.Json = document.RootElement.Clone();
                    return fields;
                }
                catch (JsonException e)
                {
                    error = $"the JSON body does not parse ({e.Message})";
                    return null;
                }
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

    private void AddForm(string form)
    {
        foreach (var pair in form.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(equals < 0 ? pair : pair[..equals]);
            Add(name, equals < 0 ? "" : Decode(pair[(equals + 1)..]));
        }
    }

    private void Add(string name, string value)
    {
        if (!_fields.TryGetValue(name, out var values))
        {
            _fields[name] = values = [];
        }
        values.Add(value);
    }

    private static string Decode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));
}

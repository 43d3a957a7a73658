using System.Text.Json;

namespace KeyBrake.Audit;

/// <summary>
/// Reads one entry back from its JSON form (an NDJSON export line, an SSE event, an API item), strictly: every field
/// of SPEC §7 present with its type, nothing else. <c>details</c> is re-canonicalised, so the hash can be recomputed.
/// </summary>
public static class AuditEntryJson
{
    private static readonly string[] FieldNames =
    [
        "seq", "ts", "type", "request_id", "key_id", "label", "run_seq", "actor", "vendor", "method", "path",
        "cost_usd_micros", "decision", "outcome", "http_status", "vendor_request_id", "reason", "policy_hash",
        "details", "prev_hash", "hash",
    ];

    /// <exception cref="FormatException">The text is not an audit entry; the message says what is wrong.</exception>
    public static AuditEntry Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not valid JSON ({e.Message.Split(" Path:")[0].TrimEnd('.')})", e);
        }
        using (document)
        {
            return Parse(document.RootElement);
        }
    }

    /// <exception cref="FormatException">The element is not an audit entry.</exception>
    public static AuditEntry Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("not a JSON object");
        }
        foreach (var property in root.EnumerateObject())
        {
            if (Array.IndexOf(FieldNames, property.Name) < 0)
            {
                throw new FormatException($"unknown field \"{property.Name}\"");
            }
        }
        var details = Field(root, "details");
        if (details.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
        {
            throw new FormatException("\"details\" must be an object or null");
        }
        return new AuditEntry
        {
            Seq = Integer(root, "seq") ?? throw new FormatException("\"seq\" must not be null"),
            Ts = Text(root, "ts") ?? throw new FormatException("\"ts\" must not be null"),
            Type = Text(root, "type") ?? throw new FormatException("\"type\" must not be null"),
            RequestId = Text(root, "request_id"),
            KeyId = Text(root, "key_id"),
            Label = Text(root, "label"),
            RunSeq = Integer(root, "run_seq"),
            Actor = Text(root, "actor"),
            Vendor = Text(root, "vendor"),
            Method = Text(root, "method"),
            Path = Text(root, "path"),
            CostUsdMicros = Integer(root, "cost_usd_micros"),
            Decision = Text(root, "decision"),
            Outcome = Text(root, "outcome"),
            HttpStatus = Integer(root, "http_status") is { } status
                ? status is >= 100 and <= 599 ? (int)status : throw new FormatException("\"http_status\" must be an HTTP status code")
                : null,
            VendorRequestId = Text(root, "vendor_request_id"),
            Reason = Text(root, "reason"),
            PolicyHash = Text(root, "policy_hash"),
            Details = details.ValueKind == JsonValueKind.Null ? null : Jcs.Canonicalize(details),
            PrevHash = Text(root, "prev_hash") ?? throw new FormatException("\"prev_hash\" must not be null"),
            Hash = Text(root, "hash") ?? throw new FormatException("\"hash\" must not be null"),
        };
    }

    private static JsonElement Field(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value : throw new FormatException($"field \"{name}\" is missing");

    private static string? Text(JsonElement root, string name)
    {
        var value = Field(root, name);
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            _ => throw new FormatException($"\"{name}\" must be a string or null"),
        };
    }

    private static long? Integer(JsonElement root, string name)
    {
        var value = Field(root, name);
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.Number when value.TryGetInt64(out var number) => number,
            _ => throw new FormatException($"\"{name}\" must be an integer or null"),
        };
    }
}

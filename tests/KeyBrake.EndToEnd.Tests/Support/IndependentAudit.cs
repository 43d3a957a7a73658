using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>
/// An independent check of an NDJSON export, written from SPEC §7 alone (it shares no code with KeyBrake.Audit):
/// its own RFC 8785 canonicalization (entries hold only strings, integers, null, objects and arrays), SHA-256 of
/// every entry without <c>hash</c>, the seq and prev_hash links, and checkpoint signatures with the public key.
/// </summary>
internal static class IndependentAudit
{
    public static List<JsonObject> VerifyExport(string ndjson)
    {
        var entries = new List<JsonObject>();
        var previous = new string('0', 64);
        foreach (var line in ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var entry = JsonNode.Parse(line)!.AsObject();
            Assert.Equal(21, entry.Count);
            Assert.Equal(entries.Count + 1, entry["seq"]!.GetValue<long>());
            Assert.Equal(previous, entry["prev_hash"]!.GetValue<string>());
            var claimed = entry["hash"]!.GetValue<string>();
            var copy = entry.DeepClone().AsObject();
            copy.Remove("hash");
            var canonical = new StringBuilder();
            Canonicalize(copy, canonical);
            Assert.Equal(claimed, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString()))));
            previous = claimed;
            entries.Add(entry);
        }
        return entries;
    }

    public static void VerifyCheckpoint(JsonNode checkpoint, string publicKeyPem, IReadOnlyList<JsonObject> entries)
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(publicKeyPem);
        var seq = checkpoint["seq"]!.GetValue<long>();
        var hash = checkpoint["hash"]!.GetValue<string>();
        var text = $"keybrake-checkpoint/v1\n{seq}\n{hash}\n{checkpoint["ts"]!.GetValue<string>()}\n";
        Assert.True(key.VerifyData(Encoding.UTF8.GetBytes(text), Convert.FromBase64String(checkpoint["signature"]!.GetValue<string>()),
            HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.Equal(hash, entries[(int)seq - 1]["hash"]!.GetValue<string>());
    }

    private static void Canonicalize(JsonNode? node, StringBuilder sb)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject o:
                sb.Append('{');
                var first = true;
                foreach (var (name, value) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    sb.Append(first ? "" : ",");
                    first = false;
                    String(name, sb);
                    sb.Append(':');
                    Canonicalize(value, sb);
                }
                sb.Append('}');
                break;
            case JsonArray a:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    sb.Append(i == 0 ? "" : ",");
                    Canonicalize(a[i], sb);
                }
                sb.Append(']');
                break;
            case JsonValue v when v.TryGetValue<string>(out var s):
                String(s, sb);
                break;
            case JsonValue v when v.TryGetValue<bool>(out var b):
                sb.Append(b ? "true" : "false");
                break;
            case JsonValue v:
                // SPEC §7: every number in an entry is an integer.
                Assert.True(long.TryParse(v.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n), $"not an integer: {v.ToJsonString()}");
                sb.Append(n.ToString(CultureInfo.InvariantCulture));
                break;
        }
    }

    private static void String(string s, StringBuilder sb)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\b' => "\\b",
                '\f' => "\\f",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }
        sb.Append('"');
    }
}

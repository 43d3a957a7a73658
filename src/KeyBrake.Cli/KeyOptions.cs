using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace KeyBrake.Cli;

/// <summary>The options that describe a new key, shared by <c>keys create</c> and <c>run</c>.</summary>
internal sealed class KeyOptions
{
    public Option<string> Label { get; } = new("--label") { Description = "Key label: 1-200 chars of [A-Za-z0-9._:/-]", Required = true };

    public Option<string> Vendor { get; } = new("--vendor") { Description = "Vendor: stripe, twilio, resend", Required = true };

    public Option<string[]> Allow { get; } = new("--allow")
    {
        Description = "Allowed endpoint pattern, e.g. 'POST /v1/payment_intents' (repeat for more)",
        Required = true,
    };

    public Option<string> Cap { get; } = new("--cap") { Description = "Daily cap in USD (up to 6 decimals)", Required = true };

    public Option<string?> Ttl { get; } = new("--ttl") { Description = "Lifetime: 90s, 30m, 4h, 7d (default: the server's)" };

    public Option<string[]> Meta { get; } = new("--meta") { Description = "Metadata k=v (repeat for more)" };

    public Option<string?> Justification { get; } = new("--justification") { Description = "Why this key is issued" };

    public Option<string?> Ticket { get; } = new("--ticket") { Description = "Change ticket, e.g. OPS-123" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Label, Vendor, Allow, Cap, Ttl, Meta, Justification, Ticket })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The body of <c>POST /v1/keys</c>; bad values here are usage errors (exit 2), the rest the server judges.</summary>
    public JsonObject ToRequest(ParseResult parse, IEnumerable<KeyValuePair<string, string>>? extraMetadata = null)
    {
        var capText = parse.GetValue(Cap)!;
        if (!decimal.TryParse(capText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var cap))
        {
            throw CliException.Usage($"--cap must be a number of USD such as 50 or 12.5, not '{capText}'");
        }
        var metadata = new JsonObject();
        foreach (var pair in parse.GetValue(Meta) ?? [])
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw CliException.Usage($"--meta takes key=value, not '{pair}'");
            }
            metadata[pair[..equals]] = pair[(equals + 1)..];
        }
        foreach (var (name, value) in extraMetadata ?? [])
        {
            metadata[name] = value;
        }
        var body = new JsonObject
        {
            ["label"] = parse.GetValue(Label),
            ["vendor"] = parse.GetValue(Vendor),
            ["allowed_endpoints"] = new JsonArray([.. parse.GetValue(Allow)!.Select(a => (JsonNode?)JsonValue.Create(a))]),
            ["daily_usd_cap"] = cap,
            ["metadata"] = metadata,
        };
        if (parse.GetValue(Ttl) is { } ttl)
        {
            body["expires_in"] = ttl;
        }
        if (parse.GetValue(Justification) is { } justification)
        {
            body["justification"] = justification;
        }
        if (parse.GetValue(Ticket) is { } ticket)
        {
            body["ticket"] = ticket;
        }
        return body;
    }
}

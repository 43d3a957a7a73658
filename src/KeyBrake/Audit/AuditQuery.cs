using System.Globalization;
using KeyBrake.Spend;

namespace KeyBrake.Audit;

/// <summary>
/// The parameters of <c>GET /v1/audit</c>, <c>/v1/audit/stream</c> and <c>/v1/audit/export</c> (SPEC §7), parsed so
/// that a 400 names every bad parameter, into the store's <see cref="AuditFilter"/> and a page size.
/// </summary>
internal sealed record AuditQuery(AuditFilter Filter, int Limit)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    private static readonly string[] Outcomes = [AuditOutcomes.Executed, AuditOutcomes.VendorRejected, AuditOutcomes.InDoubt, AuditOutcomes.Denied];

    /// <summary>Parses the parameters <paramref name="allowed"/> names; any other parameter is refused (a typo must not widen a query).</summary>
    public static AuditQuery? Parse(IQueryCollection query, IReadOnlySet<string> allowed, List<FieldError> errors)
    {
        foreach (var name in query.Keys.Where(k => !allowed.Contains(k)))
        {
            errors.Add(new(name, $"is not a known parameter (known: {string.Join(", ", allowed.Order(StringComparer.Ordinal))})"));
        }
        string? Text(string name, int max = 200)
        {
            if (!query.TryGetValue(name, out var values))
            {
                return null;
            }
            var value = values.ToString();
            if (value.Length == 0 || value.Length > max || values.Count > 1)
            {
                errors.Add(new(name, $"must be given once, 1-{max} characters"));
                return null;
            }
            return value;
        }
        long? Integer(string name, long min, long max)
        {
            var text = Text(name, 20);
            if (text is null)
            {
                return null;
            }
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                errors.Add(new(name, $"must be an integer from {min} to {max}"));
                return null;
            }
            return value;
        }
        string? Time(string name)
        {
            var text = Text(name, 40);
            if (text is null)
            {
                return null;
            }
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                errors.Add(new(name, "must be an ISO 8601 timestamp, e.g. 2026-06-03T00:00:00Z"));
                return null;
            }
            return AuditClock.Format(at);
        }
        long? Usd(string name)
        {
            var text = Text(name, 30);
            if (text is null)
            {
                return null;
            }
            if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var usd) || !MicroUsd.TryFromUsd(usd, out var micros))
            {
                errors.Add(new(name, "must be a USD amount ≥ 0 with at most 6 decimals"));
                return null;
            }
            return micros.Value;
        }

        var outcome = Text("outcome");
        if (outcome is not null && !Outcomes.Contains(outcome))
        {
            errors.Add(new("outcome", $"must be one of {string.Join(", ", Outcomes)}"));
        }
        var filter = new AuditFilter
        {
            Label = Text("label"),
            LabelPrefix = Text("label_prefix"),
            KeyId = Text("key_id"),
            Vendor = Text("vendor"),
            Type = Text("type"),
            Outcome = outcome,
            HttpStatus = (int?)Integer("http_status", 100, 599),
            From = Time("from"),
            To = Time("to"),
            MinCostMicros = Usd("min_cost_usd"),
            MaxCostMicros = Usd("max_cost_usd"),
            AfterSeq = Integer("after_seq", 0, long.MaxValue) ?? 0,
        };
        var limit = (int)(Integer("limit", 1, MaxLimit) ?? DefaultLimit);
        return errors.Count == 0 ? new AuditQuery(filter, limit) : null;
    }
}

using System.Globalization;
using System.Text;
using KeyBrake.Spend;
using Microsoft.Data.Sqlite;

namespace KeyBrake.Audit;

/// <summary>
/// The filters of <c>GET /v1/audit</c>, <c>/v1/audit/stream</c> and <c>/v1/audit/export</c> (SPEC §7), parsed so
/// that a 400 names every bad parameter, and turned into one parameterised SELECT in seq order.
/// </summary>
internal sealed record AuditQuery
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    private static readonly string[] Outcomes = [AuditOutcomes.Executed, AuditOutcomes.VendorRejected, AuditOutcomes.InDoubt, AuditOutcomes.Denied];

    public string? Label { get; init; }
    public string? LabelPrefix { get; init; }
    public string? KeyId { get; init; }
    public string? Vendor { get; init; }
    public string? Type { get; init; }

    /// <summary>Not an API parameter: the dashboard's change history of a key (<c>key.</c>).</summary>
    public string? TypePrefix { get; init; }
    public string? Outcome { get; init; }
    public int? HttpStatus { get; init; }
    public string? From { get; init; }
    public string? To { get; init; }
    public long? MinCostMicros { get; init; }
    public long? MaxCostMicros { get; init; }
    public long AfterSeq { get; init; }
    public int Limit { get; init; } = DefaultLimit;

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
        var parsed = new AuditQuery
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
            Limit = (int)(Integer("limit", 1, MaxLimit) ?? DefaultLimit),
        };
        return errors.Count == 0 ? parsed : null;
    }

    /// <summary>A command selecting the matching entries after <see cref="AfterSeq"/>, in seq order, at most <paramref name="limit"/> (null: all).</summary>
    public SqliteCommand ToCommand(SqliteConnection connection, int? limit)
    {
        var command = connection.CreateCommand();
        var sql = new StringBuilder($"SELECT {SqliteAuditStore.Columns} FROM audit_entries WHERE seq > $after");
        command.Parameters.AddWithValue("$after", AfterSeq);
        void Where(string condition, string name, object? value)
        {
            if (value is not null)
            {
                sql.Append(" AND ").Append(condition);
                command.Parameters.AddWithValue(name, value);
            }
        }
        Where("label = $label", "$label", Label);
        Where("label >= $prefix AND substr(label, 1, length($prefix)) = $prefix", "$prefix", LabelPrefix);
        Where("key_id = $key_id", "$key_id", KeyId);
        Where("vendor = $vendor", "$vendor", Vendor);
        Where("type = $type", "$type", Type);
        Where("substr(type, 1, length($type_prefix)) = $type_prefix", "$type_prefix", TypePrefix);
        Where("outcome = $outcome", "$outcome", Outcome);
        Where("http_status = $status", "$status", HttpStatus);
        Where("ts >= $from", "$from", From);
        Where("ts < $to", "$to", To);
        Where("cost_usd_micros >= $min_cost", "$min_cost", MinCostMicros);
        Where("cost_usd_micros <= $max_cost", "$max_cost", MaxCostMicros);
        sql.Append(" ORDER BY seq");
        if (limit is { } n)
        {
            sql.Append(" LIMIT $limit");
            command.Parameters.AddWithValue("$limit", n);
        }
        command.CommandText = sql.ToString();
        return command;
    }

    public List<AuditEntry> Run(SqliteConnection connection, int limit)
    {
        using var command = ToCommand(connection, limit);
        using var reader = command.ExecuteReader();
        var entries = new List<AuditEntry>();
        while (reader.Read())
        {
            entries.Add(SqliteAuditStore.Read(reader));
        }
        return entries;
    }
}

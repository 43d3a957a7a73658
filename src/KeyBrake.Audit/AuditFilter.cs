namespace KeyBrake.Audit;

/// <summary>
/// Which entries a query, stream or export returns (SPEC §7): every non-null member must match. Timestamps are the
/// chain's own text form (<see cref="AuditClock.Format"/>), so they compare as text.
/// </summary>
public sealed record AuditFilter
{
    public long AfterSeq { get; init; }
    public string? Label { get; init; }
    public string? LabelPrefix { get; init; }
    public string? KeyId { get; init; }
    public string? Vendor { get; init; }
    public string? Type { get; init; }

    /// <summary>Not an API parameter: the dashboard's change history of a key (<c>key.</c>).</summary>
    public string? TypePrefix { get; init; }
    public string? Outcome { get; init; }
    public int? HttpStatus { get; init; }

    /// <summary>Inclusive.</summary>
    public string? From { get; init; }

    /// <summary>Exclusive.</summary>
    public string? To { get; init; }
    public long? MinCostMicros { get; init; }
    public long? MaxCostMicros { get; init; }
}

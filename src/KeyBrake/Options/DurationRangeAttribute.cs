namespace KeyBrake;

/// <summary>
/// A duration option's bounds, declared on its property as Polly v8 declares its <see cref="TimeSpan"/> ranges, and
/// checked at start by <see cref="DurationRanges"/> with the key and the value in the message. Bounds are written as
/// configuration writes durations (<c>5m</c>, <c>00:00:00.5</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class DurationRangeAttribute : Attribute
{
    /// <summary>Zero is not allowed.</summary>
    public bool Positive { get; set; }

    /// <summary>The shortest allowed value (inclusive).</summary>
    public string? Min { get; set; }

    /// <summary>The longest allowed value (inclusive).</summary>
    public string? Max { get; set; }

    /// <summary>The rule as the message states it, when a cross-field check states the same one (e.g. "no longer than MaxTtl").</summary>
    public string? Requirement { get; set; }

    public bool Allows(TimeSpan value) =>
        (!Positive || value > TimeSpan.Zero)
        && (Min is null || value >= Duration.ParseConfig(Min))
        && (Max is null || value <= Duration.ParseConfig(Max));

    /// <summary>"must be a positive duration of at most 5m", "must be a duration between 500 ms and 10m", …</summary>
    public string Describe() => Requirement ?? (Positive, Min, Max) switch
    {
        (true, _, null) => "must be a positive duration",
        (true, _, { } max) => $"must be a positive duration of at most {Shown(max)}",
        (false, { } min, { } max) => $"must be a duration between {Shown(min)} and {Shown(max)}",
        (false, { } min, null) => $"must be a duration of at least {Shown(min)}",
        (false, null, { } max) => $"must be a duration of at most {Shown(max)}",
        (false, null, null) => "is not a duration",
    };

    private static string Shown(string bound) => Duration.Format(Duration.ParseConfig(bound));
}

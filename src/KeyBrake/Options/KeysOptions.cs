namespace KeyBrake;

/// <summary>The <c>KeyBrake:Keys</c> section (SPEC §2–§3).</summary>
internal sealed record KeysOptions
{
    /// <summary>The longest life a key may be given.</summary>
    [DurationRange(Positive = true)]
    public TimeSpan MaxTtl { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Used when a create request names no <c>expires_in</c>.</summary>
    [DurationRange(Positive = true, Requirement = "must be a positive duration no longer than MaxTtl")]
    public TimeSpan DefaultTtl { get; init; } = TimeSpan.FromHours(1);
}

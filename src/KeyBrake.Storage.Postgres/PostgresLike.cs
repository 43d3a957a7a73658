namespace KeyBrake.Storage.Postgres;

/// <summary>
/// A label prefix as a LIKE pattern that matches it literally: <c>%</c>, <c>_</c> and the escape character lose their
/// meaning (SPEC §3: <c>label_prefix</c> is literal and case-sensitive). LIKE rather than <c>starts_with</c>, so the
/// <c>text_pattern_ops</c> index on <c>label</c> serves it.
/// </summary>
internal static class PostgresLike
{
    /// <summary>The condition on <c>label</c>, with the pattern as <c>@pattern</c>.</summary>
    public const string LabelStartsWith = @"label LIKE @pattern ESCAPE '\'";

    public static string? Prefix(string? prefix) =>
        prefix is null ? null : prefix.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal) + "%";
}

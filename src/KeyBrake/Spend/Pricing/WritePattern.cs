using KeyBrake.Policy;

namespace KeyBrake.Spend.Pricing;

/// <summary>
/// A row of KeyBrake's own pricing tables: an <see cref="EndpointPattern"/> with a method, matched against a path of
/// exactly as many segments, so every <c>*</c> is one segment, the last one too. (An operator's FreeWrites keep
/// SPEC §4 step 5's meaning, where a last <c>*</c> is one or more.) <c>POST /v1/customers/*</c> is therefore a
/// customer update and never <c>/v1/customers/cus_1/balance_transactions</c>.
/// </summary>
internal sealed class WritePattern
{
    private readonly EndpointPattern _pattern;
    private readonly int _segments;

    private WritePattern(EndpointPattern pattern, int segments)
    {
        _pattern = pattern;
        _segments = segments;
    }

    public string Text => _pattern.Text;

    /// <summary>Parses a built-in row; a bad one is a bug in KeyBrake, not a configuration error.</summary>
    public static WritePattern Parse(string text) =>
        EndpointPattern.TryParse(text, out var pattern, out var error) && pattern!.Method is not null
            ? new WritePattern(pattern, Segments(text))
            : throw new ArgumentException($"Pricing table row '{text}' is not METHOD PATH: {error}", nameof(text));

    /// <param name="segments">The path's segment count (<see cref="Segments"/>), counted once per call.</param>
    public bool Matches(string method, string path, int segments) => segments == _segments && _pattern.Matches(method, path);

    public static int Segments(ReadOnlySpan<char> path) => path.Count('/');
}

using KeyBrake.Policy;

namespace KeyBrake.Spend.Pricing;

/// <summary>
/// SPEC §5 default deny, in data: one vendor's writes KeyBrake prices (each with its rule), the writes it knows cost
/// nothing, and the operator's <c>KeyBrake:Pricing:{vendor}:FreeWrites</c>. A priced row wins over any free one (an
/// operator's <c>POST /v1/*</c> never makes a charge free); a write in no table is 422 <c>unpriceable_request</c>.
/// Paths are matched whole and case-sensitively, never by suffix.
/// </summary>
internal sealed class WriteTable<TRule>
{
    private readonly string _vendor;
    private readonly (WritePattern Pattern, TRule Rule)[] _priced;
    private readonly WritePattern[] _free;
    private readonly EndpointPolicy _operatorFree;

    public WriteTable(string vendor, IEnumerable<(string Pattern, TRule Rule)> priced, IEnumerable<string> free, IEnumerable<string> operatorFree)
    {
        _vendor = vendor;
        _priced = [.. priced.Select(row => (WritePattern.Parse(row.Pattern), row.Rule))];
        _free = [.. free.Select(WritePattern.Parse)];
        _operatorFree = EndpointPolicy.FromValidated(operatorFree); // KeyBrakeOptionsValidator checked them at start
    }

    public IEnumerable<string> PricedPatterns => _priced.Select(row => row.Pattern.Text);

    public IEnumerable<string> FreePatterns => _free.Select(row => row.Text);

    /// <summary>Finds the rule for a write; false when the write is not priced (it may still be free).</summary>
    public bool TryPriced(string method, string path, out TRule rule)
    {
        var segments = WritePattern.Segments(path);
        foreach (var (pattern, priced) in _priced)
        {
            if (pattern.Matches(method, path, segments))
            {
                rule = priced;
                return true;
            }
        }
        rule = default!;
        return false;
    }

    /// <summary>For a write that <see cref="TryPriced"/> did not find: free when a table lists it, else unpriceable.</summary>
    public Price FreeOrUnpriceable(string method, string path)
    {
        var segments = WritePattern.Segments(path);
        foreach (var pattern in _free)
        {
            if (pattern.Matches(method, path, segments))
            {
                return Price.Free;
            }
        }
        return _operatorFree.Match(method, path) is not null
            ? Price.Free
            : Price.Unpriceable($"{method} {path} is neither a write KeyBrake prices for {_vendor} nor one it knows costs nothing "
                + $"(an operator who knows it cannot move money can list it in KeyBrake:Pricing:{_vendor}:FreeWrites)");
    }
}

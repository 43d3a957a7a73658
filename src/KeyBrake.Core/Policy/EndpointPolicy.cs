namespace KeyBrake.Policy;

/// <summary>A key's allowlist: deny by default, allow on the first matching pattern.</summary>
public sealed class EndpointPolicy
{
    private readonly EndpointPattern[] _patterns;

    private EndpointPolicy(EndpointPattern[] patterns) => _patterns = patterns;

    public IReadOnlyList<string> Texts => [.. _patterns.Select(p => p.Text)];

    /// <summary>Parses patterns that were validated when the key was issued.</summary>
    public static EndpointPolicy FromValidated(IEnumerable<string> patterns) =>
        new([.. patterns.Select(p => EndpointPattern.TryParse(p, out var parsed, out var error)
            ? parsed!
            : throw new InvalidOperationException($"Stored pattern is invalid: {error}"))]);

    public EndpointPattern? Match(string method, ReadOnlySpan<char> canonicalPath)
    {
        foreach (var pattern in _patterns)
        {
            if (pattern.Matches(method, canonicalPath))
            {
                return pattern;
            }
        }
        return null;
    }
}

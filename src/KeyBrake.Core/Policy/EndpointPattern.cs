namespace KeyBrake.Policy;

/// <summary>
/// One allowlist entry, <c>[METHOD ]PATH</c> (SPEC §4 step 5). No method means any. Segments match literally and
/// case-sensitively; <c>*</c> matches exactly one segment, except as the last, where it matches one or more.
/// </summary>
public sealed class EndpointPattern
{
    private static readonly HashSet<string> Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

    private readonly string[] _segments;

    private EndpointPattern(string text, string? method, string[] segments)
    {
        Text = text;
        Method = method;
        _segments = segments;
    }

    public string Text { get; }

    public string? Method { get; }

    public static bool TryParse(string? text, out EndpointPattern? pattern, out string? error)
    {
        pattern = null;
        error = null;
        if (string.IsNullOrEmpty(text) || text.Length > 500)
        {
            error = "a pattern is 1-500 characters: [METHOD ]PATH";
            return false;
        }
        string? method = null;
        var path = text;
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        if (space >= 0)
        {
            method = text[..space];
            path = text[(space + 1)..];
            if (!Methods.Contains(method))
            {
                error = $"'{method}' is not one of {string.Join(", ", Methods)} (upper case)";
                return false;
            }
        }
        if (!CanonicalPath.IsCanonical(path, allowWildcard: true))
        {
            error = $"'{path}' is not a canonical path: /-separated segments of [A-Za-z0-9._~!$&'()*+,;=:@-] or *, none empty, . or ..";
            return false;
        }
        pattern = new EndpointPattern(text, method, path[1..].Split('/'));
        return true;
    }

    public bool Matches(string method, ReadOnlySpan<char> canonicalPath)
    {
        if (Method is not null && !string.Equals(Method, method, StringComparison.Ordinal))
        {
            return false;
        }
        var rest = canonicalPath[1..];
        for (var i = 0; i < _segments.Length; i++)
        {
            var pattern = _segments[i];
            var last = i == _segments.Length - 1;
            if (rest.IsEmpty)
            {
                return false; // the request has fewer segments than the pattern
            }
            if (last && pattern == "*")
            {
                return true; // one or more remaining segments, and rest is not empty
            }
            var slash = rest.IndexOf('/');
            var segment = slash < 0 ? rest : rest[..slash];
            if (pattern != "*" && !segment.SequenceEqual(pattern))
            {
                return false;
            }
            rest = slash < 0 ? [] : rest[(slash + 1)..];
            if (last)
            {
                return slash < 0;
            }
        }
        return false;
    }
}

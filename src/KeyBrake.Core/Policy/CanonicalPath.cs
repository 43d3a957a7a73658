namespace KeyBrake.Policy;

/// <summary>
/// SPEC §4 step 2, applied to the raw request target (before any decoding or dot-segment removal by the server):
/// <c>/</c>-separated segments of <c>[A-Za-z0-9._~!$&amp;'()*+,=:@-]</c>, none empty, <c>.</c> or <c>..</c>.
/// A <c>%</c> or backslash anywhere fails, so no encoding can smuggle a segment past the allowlist. No <c>;</c>
/// either (SPEC v2): servlet-style upstreams read <c>..;</c> as <c>..</c> and <c>x;a=b</c> as <c>x</c>.
/// </summary>
public static class CanonicalPath
{
    /// <summary>SPEC §4 step 2: the raw request target after the vendor prefix, query string included; longer is 414.</summary>
    public const int MaxTargetLength = 2048;

    public static bool IsCanonical(ReadOnlySpan<char> path) => IsCanonical(path, allowWildcard: false);

    /// <param name="allowWildcard">For allowlist patterns: <c>*</c> may only be a whole segment.</param>
    public static bool IsCanonical(ReadOnlySpan<char> path, bool allowWildcard)
    {
        if (path.Length < 2 || path[0] != '/')
        {
            return false;
        }
        var rest = path[1..];
        while (true)
        {
            var slash = rest.IndexOf('/');
            var segment = slash < 0 ? rest : rest[..slash];
            if (!IsSegment(segment, allowWildcard))
            {
                return false;
            }
            if (slash < 0)
            {
                return true;
            }
            rest = rest[(slash + 1)..];
        }
    }

    private static bool IsSegment(ReadOnlySpan<char> segment, bool allowWildcard)
    {
        if (segment.IsEmpty || segment is "." || segment is "..")
        {
            return false;
        }
        if (segment is "*")
        {
            return true; // a wildcard in a pattern; in a request, a literal segment of the allowed alphabet
        }
        foreach (var c in segment)
        {
            // In a pattern '*' only stands alone, so "x*" can never be read as a prefix wildcard.
            if (!IsSegmentChar(c) || (allowWildcard && c == '*'))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsSegmentChar(char c) =>
        c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9')
            or '.' or '_' or '~' or '!' or '$' or '&' or '\'' or '(' or ')' or '*' or '+' or ',' or '=' or ':' or '@' or '-';
}

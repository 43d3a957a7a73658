namespace KeyBrake;

/// <summary>
/// How KeyBrake matches a request header it strips or governs (SPEC §4 steps 2 and 10): case-insensitively, with
/// <c>_</c> read as <c>-</c>. CGI- and Rack-style upstreams turn both into the same variable (<c>HTTP_STRIPE_ACCOUNT</c>),
/// so <c>Stripe_Account</c> or <c>Proxy_Authorization</c> must be treated as the header they spell.
/// </summary>
internal static class HeaderSpelling
{
    /// <summary>True when <paramref name="name"/> spells <paramref name="canonical"/> (ASCII, '-'-separated).</summary>
    public static bool Is(ReadOnlySpan<char> name, string canonical)
    {
        if (name.Length != canonical.Length)
        {
            return false;
        }
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i] == '_' ? '-' : name[i];
            if (char.ToUpperInvariant(c) != char.ToUpperInvariant(canonical[i]))
            {
                return false;
            }
        }
        return true;
    }

    public static bool StartsWith(string name, string prefix) => name.Length >= prefix.Length && Is(name.AsSpan(0, prefix.Length), prefix);

    public static bool IsAny(string name, string[] canonical)
    {
        foreach (var candidate in canonical)
        {
            if (Is(name, candidate))
            {
                return true;
            }
        }
        return false;
    }
}

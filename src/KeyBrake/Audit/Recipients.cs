namespace KeyBrake.Audit;

/// <summary>
/// SPEC §7/§12: recipients in audit entries are masked, <c>j***@example.com</c>, <c>+1******4567</c>. The agent chooses
/// these values, so a masked value is bounded (<see cref="MaxLength"/> characters, never the original length beyond
/// that) and keeps nothing the agent could use to smuggle text into the chain: only a known channel prefix survives.
/// </summary>
internal static class Recipients
{
    /// <summary>The longest masked value; a longer recipient loses characters from the middle, not its size alone.</summary>
    public const int MaxLength = 64;

    /// <summary>How many masked recipients an entry keeps; <c>recipients_count</c> then gives the true count.</summary>
    public const int MaxListed = 20;

    // Twilio's channel addresses ("whatsapp:+1555…"): a fixed set of KeyBrake's own words, never the agent's text.
    private static readonly string[] ChannelPrefixes = ["whatsapp:", "messenger:", "rcs:"];

    // What a phone number is written with; a value with anything else is all stars.
    private static readonly System.Buffers.SearchValues<char> PhoneCharacters = System.Buffers.SearchValues.Create("+0123456789 -().");

    public static string Mask(string recipient)
    {
        var value = recipient.AsSpan().Trim();
        // "Name <addr@example.com>" keeps only the masked address: the display name is personal data too.
        var open = value.LastIndexOf('<');
        if (open >= 0 && value.EndsWith(">", StringComparison.Ordinal))
        {
            value = value[(open + 1)..^1].Trim();
        }
        var at = value.LastIndexOf('@');
        if (at > 0)
        {
            // The domain identifies nobody, but the agent picks it: keep at most its last characters.
            var domain = value[at..];
            var room = MaxLength - 4;
            return string.Concat(Safe(value[..1]), "***", domain.Length <= room ? Safe(domain) : "@…" + Safe(domain[^(room - 2)..]));
        }
        var prefix = "";
        foreach (var channel in ChannelPrefixes)
        {
            if (value.StartsWith(channel, StringComparison.OrdinalIgnoreCase))
            {
                prefix = channel;
                break;
            }
        }
        // Anything else before a ':' (a name, a date of birth) is masked with the rest, never kept.
        var number = value[prefix.Length..];
        var stars = MaxLength - prefix.Length;
        if (number.Length <= 6 || number.ContainsAnyExcept(PhoneCharacters))
        {
            return prefix + new string('*', Math.Min(number.Length, stars));
        }
        return string.Concat(prefix, number[..2], new string('*', Math.Min(number.Length - 6, stars - 6)), number[^4..]);
    }

    /// <summary>
    /// Control characters (escaped as six bytes each in the entry's JSON) and surrogates (a cut could split a pair the
    /// JSON writer then refuses) become '*'.
    /// </summary>
    private static string Safe(ReadOnlySpan<char> text)
    {
        Span<char> copy = stackalloc char[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            copy[i] = char.IsControl(text[i]) || char.IsSurrogate(text[i]) ? '*' : text[i];
        }
        return new string(copy);
    }
}

namespace KeyBrake.Audit;

/// <summary>SPEC §7: recipients in audit entries are masked, <c>j***@example.com</c>, <c>+1******4567</c>.</summary>
internal static class Recipients
{
    public static string Mask(string recipient)
    {
        var value = recipient.Trim();
        // "Name <addr@example.com>" keeps only the masked address: the display name is personal data too.
        var open = value.LastIndexOf('<');
        if (open >= 0 && value.EndsWith('>'))
        {
            value = value[(open + 1)..^1].Trim();
        }
        var at = value.LastIndexOf('@');
        if (at > 0)
        {
            return value[0] + "***" + value[at..];
        }
        // Phone numbers, with an optional channel prefix ("whatsapp:+1555…").
        var colon = value.IndexOf(':');
        var prefix = colon >= 0 ? value[..(colon + 1)] : "";
        var number = value[prefix.Length..];
        if (number.Length <= 6)
        {
            return prefix + new string('*', number.Length);
        }
        return prefix + number[..2] + new string('*', number.Length - 6) + number[^4..];
    }
}

namespace KeyBrake.Vendors.Twilio;

/// <summary>
/// How many SMS segments a body takes. GSM-7 when every character is in the GSM 03.38 default alphabet or its
/// extension table (which costs two septets): 160 septets in one segment, 153 per segment beyond. Any other character
/// makes the whole message UCS-2: 70 UTF-16 units in one segment, 67 per segment beyond.
/// </summary>
internal static class SmsSegments
{
    private const string Basic =
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

    private const string Extension = "\f^{}\\[~]|€";

    public static (int Segments, bool Gsm7) Count(string body)
    {
        var sizes = new List<int>(body.Length);
        foreach (var c in body)
        {
            if (Basic.Contains(c, StringComparison.Ordinal))
            {
                sizes.Add(1);
            }
            else if (Extension.Contains(c, StringComparison.Ordinal))
            {
                sizes.Add(2); // escape + character
            }
            else
            {
                return (Pack(Ucs2Units(body), 70, 67), false);
            }
        }
        return (Pack(sizes, 160, 153), true);
    }

    /// <summary>UCS-2 units: UTF-16 code units, a surrogate pair kept together (it is never split across segments).</summary>
    private static List<int> Ucs2Units(string body)
    {
        var units = new List<int>(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            var pair = char.IsHighSurrogate(body[i]) && i + 1 < body.Length && char.IsLowSurrogate(body[i + 1]);
            units.Add(pair ? 2 : 1);
            i += pair ? 1 : 0;
        }
        return units;
    }

    /// <summary>Fills segments in order; a unit that does not fit whole starts the next segment.</summary>
    private static int Pack(List<int> sizes, int single, int perPart)
    {
        if (sizes.Sum() <= single)
        {
            return 1;
        }
        var segments = 1;
        var used = 0;
        foreach (var size in sizes)
        {
            if (used + size > perPart)
            {
                segments++;
                used = 0;
            }
            used += size;
        }
        return segments;
    }
}

namespace KeyBrake;

/// <summary><c>KeyBrake:Pricing:twilio</c>: prices in micro-USD, and the operator's free writes.</summary>
internal sealed record TwilioPricingOptions
{
    /// <summary>One SMS segment (GSM-7: 160 / 153 characters, UCS-2: 70 / 67).</summary>
    public long SegmentMicros { get; init; }

    /// <summary>An MMS: any message with a <c>MediaUrl</c>, whatever its body (SPEC §5).</summary>
    public long MmsMicros { get; init; }

    /// <summary>Reserved per call created; settled from the response's price when it states one.</summary>
    public long CallMicros { get; init; }

    /// <summary>Buying a phone number (<c>IncomingPhoneNumbers.json</c> and <c>IncomingPhoneNumbers/Local.json</c>).</summary>
    public long PhoneNumberMicros { get; init; }

    /// <summary>Writes the operator knows cost nothing (SPEC §5 default deny), as <c>[METHOD ]PATH</c> patterns (SPEC §4 step 5).</summary>
    public string[] FreeWrites { get; init; } = [];
}

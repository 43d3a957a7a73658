namespace KeyBrake;

/// <summary><c>KeyBrake:Proxy</c> (SPEC §2, §4): body limits and the upstream and drain time-outs.</summary>
internal sealed class ProxyOptionsValidator : IOptionsSectionValidator
{
    public void Validate(KeyBrakeOptions options, ICollection<string> errors)
    {
        var proxy = options.Proxy;
        if (proxy.MaxBodyBytes is < 1 or > 64 * 1024 * 1024)
        {
            errors.Add($"KeyBrake:Proxy:MaxBodyBytes: {proxy.MaxBodyBytes} must be between 1 and 67108864.");
        }
        // SPEC §2: the budget every in-flight body shares; smaller than one allowed body, that body could never be read.
        if (proxy.MaxInFlightBodyBytes < 1 || proxy.MaxInFlightBodyBytes < proxy.MaxBodyBytes)
        {
            errors.Add($"KeyBrake:Proxy:MaxInFlightBodyBytes: {proxy.MaxInFlightBodyBytes} must be positive and at least KeyBrake:Proxy:MaxBodyBytes ({proxy.MaxBodyBytes}).");
        }
        DurationRanges.Validate("KeyBrake:Proxy", proxy, errors);
    }
}

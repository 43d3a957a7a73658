namespace KeyBrake;

/// <summary>One <c>KeyBrake:Vendors:{vendor}</c> entry (SPEC §1–§2).</summary>
internal sealed record VendorOptions
{
    public string? Upstream { get; init; }
    public string? SecretName { get; init; }
    /// <summary>Optional listener that serves this vendor without a path prefix.</summary>
    public int? Port { get; init; }
    /// <summary><c>Bearer</c> (Stripe, Resend) or <c>Basic</c> (Twilio: <c>AccountSid:secret</c>).</summary>
    public string? Auth { get; init; }
    public string? AccountSid { get; init; }

    /// <summary>How long connecting to the upstream (TCP and TLS) may take before the call is 502 <c>upstream_unreachable</c>.</summary>
    [DurationRange(Positive = true, Max = "5m")]
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the upstream may stay silent before 504 <c>upstream_timeout</c>; unset = <c>KeyBrake:Proxy:UpstreamTimeout</c>.</summary>
    [DurationRange(Positive = true)]
    public TimeSpan? ResponseTimeout { get; init; }
}

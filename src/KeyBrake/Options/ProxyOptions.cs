namespace KeyBrake;

/// <summary>The <c>KeyBrake:Proxy</c> section (SPEC §2, §4).</summary>
internal sealed record ProxyOptions
{
    public long MaxBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// SPEC §2: request body bytes buffered by all in-flight calls together; past it a call waits up to 1 s, then 503
    /// <c>overloaded</c> (retryable).
    /// </summary>
    public long MaxInFlightBodyBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>How long the upstream may stay silent before the call is 504 <c>upstream_timeout</c>.</summary>
    [DurationRange(Positive = true)]
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>
    /// On SIGTERM: how long in-flight calls may take to finish (settle, write <c>proxy.response</c>) before the process
    /// stops anyway. New connections are refused from the first moment; the audit writer is flushed after the drain.
    /// </summary>
    [DurationRange(Positive = true, Max = "10m")]
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

namespace KeyBrake;

/// <summary>The <c>KeyBrake:Admin</c> section (SPEC §2–§3).</summary>
internal sealed record AdminOptions
{
    /// <summary>
    /// Accept a plain-http admin listener on a non-loopback address (e.g. a pod IP for Kubernetes probes) because the
    /// network in front of it is restricted (a NetworkPolicy, a service mesh with mTLS). Off: such a listener is an error.
    /// </summary>
    public bool AllowPlaintextNonLoopback { get; init; }

    public string? BootstrapToken { get; init; }
}

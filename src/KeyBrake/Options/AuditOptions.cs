namespace KeyBrake;

/// <summary>The <c>KeyBrake:Audit</c> section (SPEC §2, §7).</summary>
internal sealed record AuditOptions
{
    /// <summary>A signed checkpoint every this many entries (SPEC §7), and at least every <see cref="CheckpointInterval"/>.</summary>
    public long CheckpointEvery { get; init; } = 1000;

    [DurationRange(Min = "1s")]
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a proxied call waits for its <c>proxy.request</c> entry to be durable before 503 <c>audit_unavailable</c>.</summary>
    [DurationRange(Positive = true, Max = "1m")]
    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromSeconds(2);
    public int QueueCapacity { get; init; } = 16_384;
    public int MaxBatch { get; init; } = 1_024;

    /// <summary>SQLite <c>synchronous</c> for the audit writer: <c>NORMAL</c> (survives a crash of the process) or <c>FULL</c> (also a power loss).</summary>
    public string Synchronous { get; init; } = "NORMAL";

    /// <summary>The checkpoint signing key's name in the secret store (PKCS#8 PEM, ECDSA P-256).</summary>
    public string SigningKeySecretName { get; init; } = "audit-signing-key";

    /// <summary>
    /// Serve proxy traffic on a chain whose start-up check failed, if this names the first bad seq that check reported.
    /// The acknowledgement is itself an audit entry.
    /// </summary>
    public long? AcknowledgeBrokenChainAt { get; init; }
}

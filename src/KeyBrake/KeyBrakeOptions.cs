namespace KeyBrake;

/// <summary>The <c>KeyBrake</c> configuration section (SPEC §2). Durations accept <c>90s</c>, <c>30m</c>, <c>4h</c>, <c>7d</c> or <c>hh:mm:ss</c>.</summary>
internal sealed record KeyBrakeOptions
{
    public const string Section = "KeyBrake";

    /// <summary>
    /// SPEC §2: local files (admin-token, the Local signing key, checkpoints.ndjson, the dashboard key ring), independent
    /// of where the database is. Created 0700; every file KeyBrake writes in it is 0600. Unset: <c>data</c>, or, when only
    /// <c>Storage:Sqlite:Path</c> is set (a v1 deployment), that file's directory, where v1 kept these files
    /// (<see cref="Storage.DataDirectory.Resolve"/>).
    /// </summary>
    public string? DataDirectory { get; init; }

    public Dictionary<string, VendorOptions> Vendors { get; init; } = new(StringComparer.Ordinal);
    public SecretsOptions Secrets { get; init; } = new();
    public StorageOptions Storage { get; init; } = new();
    public AdminOptions Admin { get; init; } = new();
    public KeysOptions Keys { get; init; } = new();
    public ProxyOptions Proxy { get; init; } = new();
    public AuditOptions Audit { get; init; } = new();
    public Spend.Pricing.PricingOptions Pricing { get; init; } = new();
}

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
    public string ConnectTimeout { get; init; } = "10s";

    /// <summary>How long the upstream may stay silent before 504 <c>upstream_timeout</c>; unset = <c>KeyBrake:Proxy:UpstreamTimeout</c>.</summary>
    public string? ResponseTimeout { get; init; }
}

internal sealed record SecretsOptions
{
    public string Provider { get; init; } = "Local";
    public string? KeyVaultUri { get; init; }
    public string CacheTtl { get; init; } = "5m";

    /// <summary>
    /// How long past its TTL a cached value may still be used while the vault cannot be read (stale-while-failing);
    /// after that, 503 <c>secret_unavailable</c>. <c>0</c> = never serve a stale value.
    /// </summary>
    public string MaxStale { get; init; } = "15m";

    /// <summary>Key Vault reads: the time-out of one attempt, the retries after it (429, 5xx, network, time-out).</summary>
    public string ReadTimeout { get; init; } = "3s";
    public int ReadRetries { get; init; } = 2;

    /// <summary>How long the circuit stays open (reads fail at once, stale values are served) once Key Vault keeps failing.</summary>
    public string BreakDuration { get; init; } = "30s";

    /// <summary>
    /// SecretClient's check that Key Vault's authentication challenge names the vault's own domain. Turn off only for a
    /// vault reached through a custom domain (or a local stand-in); the token is then requested for the challenge's resource.
    /// </summary>
    public bool VerifyChallengeResource { get; init; } = true;
    public Dictionary<string, string> Local { get; init; } = new(StringComparer.Ordinal);
}

internal sealed record StorageOptions
{
    public const string SqliteProvider = "Sqlite";
    public const string PostgresProvider = "Postgres";

    /// <summary>SPEC §9: <c>Sqlite</c> (one process, nothing to install); <c>Postgres</c> arrives with replicas.</summary>
    public string Provider { get; init; } = SqliteProvider;

    public SqliteStorageOptions Sqlite { get; init; } = new();

    /// <summary>
    /// SPEC §2: below this much free space where the store writes, proxied calls get 503 <c>audit_unavailable</c>
    /// (admin changes and revocations keep working).
    /// </summary>
    public long MinFreeBytes { get; init; } = 1024L * 1024 * 1024;
}

internal sealed record SqliteStorageOptions
{
    /// <summary>The database file; unset: <c>{DataDirectory}/keybrake.db</c>.</summary>
    public string? Path { get; init; }
}

internal sealed record AdminOptions
{
    /// <summary>
    /// Accept a plain-http admin listener on a non-loopback address (e.g. a pod IP for Kubernetes probes) because the
    /// network in front of it is restricted (a NetworkPolicy, a service mesh with mTLS). Off: such a listener is an error.
    /// </summary>
    public bool AllowPlaintextNonLoopback { get; init; }

    public string? BootstrapToken { get; init; }
}

internal sealed record KeysOptions
{
    public string MaxTtl { get; init; } = "7d";
    /// <summary>Used when a create request names no <c>expires_in</c>.</summary>
    public string DefaultTtl { get; init; } = "1h";
}

internal sealed record ProxyOptions
{
    public long MaxBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// SPEC §2: request body bytes buffered by all in-flight calls together; past it a call waits up to 1 s, then 503
    /// <c>overloaded</c> (retryable).
    /// </summary>
    public long MaxInFlightBodyBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>How long the upstream may stay silent before the call is 504 <c>upstream_timeout</c>.</summary>
    public string UpstreamTimeout { get; init; } = "100s";

    /// <summary>
    /// On SIGTERM: how long in-flight calls may take to finish (settle, write <c>proxy.response</c>) before the process
    /// stops anyway. New connections are refused from the first moment; the audit writer is flushed after the drain.
    /// </summary>
    public string DrainTimeout { get; init; } = "30s";
}

internal sealed record AuditOptions
{
    /// <summary>A signed checkpoint every this many entries (SPEC §7), and at least every <see cref="CheckpointInterval"/>.</summary>
    public long CheckpointEvery { get; init; } = 1000;
    public string CheckpointInterval { get; init; } = "1m";

    /// <summary>How long a proxied call waits for its <c>proxy.request</c> entry to be durable before 503 <c>audit_unavailable</c>.</summary>
    public string CommitTimeout { get; init; } = "2s";
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

namespace KeyBrake;

/// <summary>The <c>KeyBrake:Secrets</c> section (SPEC §2, §6).</summary>
internal sealed record SecretsOptions
{
    public string Provider { get; init; } = "Local";
    public string? KeyVaultUri { get; init; }

    /// <summary>How long a vendor secret is kept in memory; <c>0</c> = read the store on every call.</summary>
    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long past its TTL a cached value may still be used while the vault cannot be read (stale-while-failing);
    /// after that, 503 <c>secret_unavailable</c>. <c>0</c> = never serve a stale value.
    /// </summary>
    public TimeSpan MaxStale { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Key Vault reads: the time-out of one attempt, the retries after it (429, 5xx, network, time-out).</summary>
    [DurationRange(Min = "00:00:00.5", Max = "10m")]
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(3);
    public int ReadRetries { get; init; } = 2;

    /// <summary>How long the circuit stays open (reads fail at once, stale values are served) once Key Vault keeps failing.</summary>
    [DurationRange(Min = "00:00:00.5", Max = "10m")]
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// SecretClient's check that Key Vault's authentication challenge names the vault's own domain. Turn off only for a
    /// vault reached through a custom domain (or a local stand-in); the token is then requested for the challenge's resource.
    /// </summary>
    public bool VerifyChallengeResource { get; init; } = true;
    public Dictionary<string, string> Local { get; init; } = new(StringComparer.Ordinal);
}

namespace KeyBrake;

/// <summary>
/// The <c>KeyBrake</c> configuration section (SPEC §2), bound by <see cref="OptionsBinding"/>: each default is written
/// here once, in the records of this folder. Durations are <see cref="TimeSpan"/>s written <c>90s</c>, <c>30m</c>,
/// <c>4h</c>, <c>7d</c>, <c>0</c> or <c>hh:mm:ss</c>.
/// </summary>
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
    public PricingOptions Pricing { get; init; } = new();
}

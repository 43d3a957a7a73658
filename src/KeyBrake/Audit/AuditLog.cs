using System.Globalization;
using System.Security.Cryptography;
using KeyBrake.Secrets;
using KeyBrake.Storage;
using Microsoft.Extensions.Options;

namespace KeyBrake.Audit;

/// <summary>
/// The host's audit log: loads the checkpoint signing key, starts the <see cref="AuditWriter"/> (which checks the
/// chain's tail), decides whether proxy traffic may be served, and flushes the writer at shutdown (a hosted service
/// stops after the server has drained its requests).
/// </summary>
internal sealed partial class AuditLog(
    IOptions<KeyBrakeOptions> options,
    IAuditChainStore chainStore,
    IAuditReader reader,
    InProcessCommitSignal commits,
    DataDirectory dataDirectory,
    StoreFreeSpace freeSpace,
    ISecretStore secrets,
    TimeProvider time,
    ILoggerFactory loggers,
    ILogger<AuditLog> logger) : IHostedService, IAsyncDisposable
{
    private readonly AuditOptions _options = options.Value.Audit;
    private AuditWriter? _writer;
    private string? _brokenChain;

    public TimeSpan CommitTimeout { get; } = options.Value.Audit.CommitTimeout;

    /// <summary>
    /// Admin changes and start-up entries wait longer than an agent's call: an operator can wait a few seconds, and a
    /// first commit on a cold machine can take longer than a tight CommitTimeout.
    /// </summary>
    public TimeSpan AdminCommitTimeout => CommitTimeout > TimeSpan.FromSeconds(10) ? CommitTimeout : TimeSpan.FromSeconds(10);

    public string CheckpointFilePath => dataDirectory.File(DataDirectory.CheckpointsFile);

    /// <summary>Where the Local provider keeps a signing key it created.</summary>
    public string LocalSigningKeyPath => dataDirectory.File(DataDirectory.SigningKeyFile);

    public AuditWriter Writer => _writer ?? throw new InvalidOperationException("The audit log has not started.");

    public ECDsa SigningKey { get; private set; } = null!;

    /// <summary>
    /// Null when proxy traffic may be served; otherwise why not: a broken chain nobody acknowledged, or less free space
    /// where the store writes than <c>Storage:MinFreeBytes</c> (SPEC §2; admin entries are still written).
    /// </summary>
    public string? ProxyBlocked => _brokenChain ?? freeSpace.Problem;

    /// <summary>
    /// Non-null while the store is below <c>Storage:MinFreeBytes</c> (SPEC §2): the room left is for admin changes and
    /// revocations, so refused proxied calls are counted instead of chained (see Proxy/ProxyAuditTrail).
    /// </summary>
    public string? LowOnSpace => freeSpace.Problem;

    /// <summary>The last result of <c>GET /v1/audit/verify</c> (for the dashboard's integrity panel).</summary>
    public VerifyResult? LastVerify { get; private set; }

    public DateTimeOffset? LastVerifiedAt { get; private set; }

    /// <summary>Verifies the whole chain against the signed checkpoints (<c>GET /v1/audit/verify</c>, the dashboard).</summary>
    public VerifyResult VerifyNow()
    {
        var result = ChainCheck.Full(reader, Writer.AllCheckpoints(), SigningKey);
        (LastVerify, LastVerifiedAt) = (result, time.GetUtcNow());
        return result;
    }

    public string Now() => AuditClock.Format(time.GetUtcNow());

    /// <summary>Called once at start-up (<see cref="KeyBrakeStartup"/>), after the migrations and before anything can write an entry.</summary>
    public void Start()
    {
        SigningKey = SigningKeys.Load(LoadSigningKeyPem());
        _writer = new AuditWriter(new AuditWriterOptions
        {
            CheckpointFile = CheckpointFilePath,
            QueueCapacity = _options.QueueCapacity,
            MaxBatch = _options.MaxBatch,
            CheckpointEvery = _options.CheckpointEvery,
            CheckpointInterval = _options.CheckpointInterval,
            FlushCheckpointFile = _options.Synchronous == "FULL",
        }, chainStore, reader, SigningKey, time, loggers.CreateLogger<AuditWriter>(), commits);
        var writer = _writer;
        Telemetry.KeyBrakeMetrics.ObserveAuditQueue(() => writer.QueueDepth);
        var check = _writer.Start();
        if (check.Ok)
        {
            Log.ChainVerified(logger, check.HeadSeq, check.Entries);
            return;
        }
        if (_options.AcknowledgeBrokenChainAt == check.FirstBadSeq)
        {
            Log.BrokenChainAcknowledged(logger, check.FirstBadSeq!.Value, check.Problem!);
            var acknowledged = AppendDurableAsync(new AuditEntry
            {
                Ts = Now(),
                Type = AuditTypes.ChainAcknowledged,
                Actor = "system",
                Details = Details.Object(d => d
                    .Add("first_bad_seq", check.FirstBadSeq)
                    .Add("head_hash", check.HeadHash)
                    .Add("head_seq", check.HeadSeq)
                    .Add("problem", check.Problem)
                    .Add("setting", "KeyBrake:Audit:AcknowledgeBrokenChainAt")),
            }, CancellationToken.None).GetAwaiter().GetResult();
            if (acknowledged)
            {
                return;
            }
        }
        _brokenChain = string.Create(CultureInfo.InvariantCulture,
            $"the audit chain failed its start-up check at seq {check.FirstBadSeq}: {check.Problem}");
        Log.BrokenChain(logger, check.FirstBadSeq ?? 0, check.Problem ?? "");
    }

    /// <summary>An admin entry that must be durable before the caller goes on; it is never withdrawn (retried until written).</summary>
    public Task<bool> AppendDurableAsync(AuditEntry entry, CancellationToken cancellationToken) =>
        Writer.AppendDurableAsync(entry, AdminCommitTimeout, abandonable: false, cancellationToken);

    /// <summary>
    /// With a ledger kept beside the chain (<see cref="IAuditChainStore.KeepsSpend"/>): completes once the entries queued
    /// before the call, and the settlements they carry, are committed (or their batch failed). At once otherwise.
    /// </summary>
    public Task SettledAsync(CancellationToken cancellationToken) =>
        chainStore.KeepsSpend ? Writer.FlushAsync(cancellationToken) : Task.CompletedTask;

    /// <summary>Queues an entry without waiting for its commit (waits only for room in the queue).</summary>
    public ValueTask AppendAsync(AuditEntry entry, SpendClaim? settlement = null) => Writer.AppendAsync(entry, settlement, CommitTimeout);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs after the server has drained its requests: commits everything queued, takes a last checkpoint.</summary>
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
        {
            await _writer.DisposeAsync();
        }
        SigningKey?.Dispose();
    }

    private string LoadSigningKeyPem()
    {
        try
        {
            return secrets.GetAsync(_options.SigningKeySecretName, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        catch (SecretUnavailableException) when (options.Value.Secrets.Provider == "Local")
        {
            if (!dataDirectory.HoldsDatabase)
            {
                // SPEC §9: replicas append to one chain and verify each other's checkpoints, so they must share one key;
                // a key made here would be this replica's alone, and the others would find its checkpoints forged.
                throw new OptionsValidationException(KeyBrakeOptions.Section, typeof(KeyBrakeOptions),
                [
                    $"KeyBrake:Secrets:Local:{_options.SigningKeySecretName}: required with KeyBrake:Storage:Provider Postgres: every replica signs " +
                    "the one chain's checkpoints with the same key (a PKCS#8 PEM; Key Vault in production). Copy data/audit-signing-key.pem of a " +
                    "SQLite deployment, or make one with: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
                ]);
            }
            // SPEC §7: the Local provider creates a key under DataDirectory on first start and keeps using it.
            if (!File.Exists(LocalSigningKeyPath))
            {
                OwnerOnlyFile.Write(LocalSigningKeyPath, SigningKeys.NewPrivateKeyPem());
                Log.SigningKeyCreated(logger, LocalSigningKeyPath);
            }
            return File.ReadAllText(LocalSigningKeyPath);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Audit chain head is seq {Seq}; its tail ({Checked} entries after the last checkpoint) verifies")]
        public static partial void ChainVerified(ILogger logger, long seq, long @checked);

        [LoggerMessage(EventId = 5102, Level = LogLevel.Critical, Message = "The audit chain is broken at seq {Seq}: {Problem}. Proxy traffic is refused (503 audit_unavailable) until an operator verifies the chain and sets KeyBrake:Audit:AcknowledgeBrokenChainAt to that seq")]
        public static partial void BrokenChain(ILogger logger, long seq, string problem);

        [LoggerMessage(EventId = 5103, Level = LogLevel.Warning, Message = "The audit chain is broken at seq {Seq} ({Problem}); KeyBrake:Audit:AcknowledgeBrokenChainAt acknowledges it, so proxy traffic is served")]
        public static partial void BrokenChainAcknowledged(ILogger logger, long seq, string problem);

        [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Created the audit checkpoint signing key {Path} (mode 0600); keep a copy of its public key with your auditors")]
        public static partial void SigningKeyCreated(ILogger logger, string path);
    }
}

using System.Security.Cryptography;
using KeyBrake.Audit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace KeyBrake.Storage.Conformance.Audit;

/// <summary>
/// The audit suites' common ground: the real <see cref="AuditWriter"/> over the engine's ports (as the host starts it),
/// a checkpoint signing key, and entries to write.
/// </summary>
public abstract class AuditConformance : StoreConformance
{
    protected static readonly TimeSpan LongWait = TimeSpan.FromSeconds(30);

    /// <summary>The checkpoint file kept outside the store (the writer appends to it).</summary>
    private readonly string _directory = Directory.CreateTempSubdirectory("keybrake-conformance-").FullName;

    protected ECDsa SigningKey { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    protected static IAuditReader ReaderOf(IServiceProvider store) => store.GetRequiredService<IAuditReader>();

    /// <summary>
    /// Starts a writer on <paramref name="store"/>'s chain store and reader, reporting its commits to the engine's
    /// in-process commit signal when it has one (a shared engine's signal hears of commits from the database instead).
    /// </summary>
    protected AuditWriter StartWriter(IServiceProvider store, long checkpointEvery = 1_000)
    {
        var writer = Own(new AuditWriter(
            new AuditWriterOptions { CheckpointFile = Path.Combine(_directory, "checkpoints.ndjson"), CheckpointEvery = checkpointEvery },
            store.GetRequiredService<IAuditChainStore>(), ReaderOf(store), SigningKey, TimeProvider.System, NullLogger.Instance,
            store.GetService<InProcessCommitSignal>()));
        var check = writer.Start();
        Assert.True(check.Ok, check.Problem);
        return writer;
    }

    /// <summary>Every committed entry, in seq order.</summary>
    protected static async Task<List<AuditEntry>> ReadAllAsync(IAuditReader reader)
    {
        var entries = new List<AuditEntry>();
        await foreach (var entry in reader.ExportAsync(new AuditFilter(), CancellationToken.None))
        {
            entries.Add(entry);
        }
        return entries;
    }

    protected static AuditEntry Entry(string type, string? keyId, string? requestId = null, string ts = "2026-06-03T10:00:00.000Z") => new()
    {
        Ts = ts,
        Type = type,
        KeyId = keyId,
        Actor = keyId is null || !type.StartsWith("proxy.", StringComparison.Ordinal) ? "principal:ops" : "key:" + keyId,
        RequestId = requestId ?? "req_" + Guid.NewGuid().ToString("N"),
    };

    /// <summary>Seals <paramref name="entries"/> after <paramref name="head"/> as the writer does (seq, prev_hash, hash; run_seq as given).</summary>
    protected static List<AuditEntry> Seal(AuditHead head, params AuditEntry[] entries)
    {
        var (seq, hash) = head;
        var sealedEntries = new List<AuditEntry>(entries.Length);
        foreach (var e in entries)
        {
            var entry = e with { Seq = ++seq, PrevHash = hash };
            entry = entry with { Hash = AuditHash.Compute(entry) };
            sealedEntries.Add(entry);
            hash = entry.Hash;
        }
        return sealedEntries;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        SigningKey.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}

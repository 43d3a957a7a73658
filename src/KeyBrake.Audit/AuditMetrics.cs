using System.Diagnostics.Metrics;

namespace KeyBrake.Audit;

/// <summary>The audit writer's instruments, on the meter <c>KeyBrake.Audit</c>.</summary>
public static class AuditMetrics
{
    public const string MeterName = "KeyBrake.Audit";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>One commit of a batch of entries (insert, hash chain, fsync as <c>synchronous</c> says), in seconds.</summary>
    public static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>(
        "keybrake.audit.commit.duration", "s", "Time to commit one batch of audit entries");

    /// <summary>Entries committed to the chain.</summary>
    public static readonly Counter<long> EntriesCommitted = Meter.CreateCounter<long>(
        "keybrake.audit.entries", "{entry}", "Audit entries committed");
}

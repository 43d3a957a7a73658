using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace KeyBrake.Bench;

/// <summary>
/// Which types a process allocates, sampled from the runtime's GC AllocationTick events (one per ~100 KB): enabled with
/// KB_ALLOC_PROFILE=1, read at <c>GET /__bench/allocations</c>. For finding allocations to remove, not for the figures.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private readonly ConcurrentDictionary<string, long> _bytes = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.Payload is null)
        {
            return;
        }
        var type = e.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
    }

    public string Report() => string.Join('\n', _bytes.OrderByDescending(p => p.Value).Take(40).Select(p => $"{p.Value / 1024,10} KB  {p.Key}"));
}

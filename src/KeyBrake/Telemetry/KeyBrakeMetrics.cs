using System.Diagnostics.Metrics;

namespace KeyBrake.Telemetry;

/// <summary>
/// KeyBrake's instruments, on the meter <c>KeyBrake</c> (exported over OTLP when configured). Tags carry vendors,
/// decisions, outcomes and error codes; never a token, a secret, a key id or a label (those are unbounded: they are on
/// the spans and in the audit log).
/// </summary>
internal static class KeyBrakeMetrics
{
    public const string MeterName = "KeyBrake";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Proxied calls by <c>vendor</c>, <c>decision</c> (<c>allow</c> / <c>deny</c>) and <c>outcome</c> (SPEC §7).</summary>
    public static readonly Counter<long> Requests = Meter.CreateCounter<long>("keybrake.proxy.requests", "{request}", "Proxied calls by vendor, decision and outcome");

    /// <summary>Refused calls by <c>vendor</c> and <c>code</c> (the error code the agent got), including those with no key.</summary>
    public static readonly Counter<long> Denials = Meter.CreateCounter<long>("keybrake.proxy.denials", "{request}", "Refused calls by vendor and error code");

    /// <summary>Money settled against caps, by <c>vendor</c> and <c>outcome</c>, in integer micro-USD (divide by 1e6 for USD).</summary>
    public static readonly Counter<long> Spend = Meter.CreateCounter<long>("keybrake.spend", "{micro-USD}", "Spend settled against daily caps, in micro-USD");

    /// <summary>Reservations taken and not yet settled or released, by <c>vendor</c>.</summary>
    public static readonly UpDownCounter<long> ReservationsInFlight = Meter.CreateUpDownCounter<long>(
        "keybrake.spend.reservations", "{reservation}", "Spend reservations in flight");

    /// <summary>Secret store reads by <c>result</c>: <c>hit</c>, <c>miss</c> (the store was asked), <c>stale</c> (served past the TTL while the store failed).</summary>
    public static readonly Counter<long> SecretCache = Meter.CreateCounter<long>("keybrake.secrets.cache", "{read}", "Secret reads by cache result");

    /// <summary>Vault keys revoked (one by one or by label prefix).</summary>
    public static readonly Counter<long> Revocations = Meter.CreateCounter<long>("keybrake.keys.revocations", "{key}", "Vault keys revoked");

    private static Func<int> _auditQueueDepth = () => 0;

    static KeyBrakeMetrics() =>
        Meter.CreateObservableGauge("keybrake.audit.queue.depth", () => _auditQueueDepth(), "{entry}", "Audit entries waiting for the writer");

    /// <summary>Where the audit queue depth gauge reads from (the running host's writer).</summary>
    public static void ObserveAuditQueue(Func<int> depth) => _auditQueueDepth = depth;

    public static void SecretCacheResult(string result) => SecretCache.Add(1, new KeyValuePair<string, object?>("result", result));

    public static void Denied(string vendor, string code)
    {
        Denials.Add(1, new("vendor", vendor), new("code", code));
        Requests.Add(1, new("vendor", vendor), new("decision", "deny"), new("outcome", "denied"));
    }

    public static void Forwarded(string vendor, string outcome, long settledMicros)
    {
        Requests.Add(1, new("vendor", vendor), new("decision", "allow"), new("outcome", outcome));
        if (settledMicros > 0)
        {
            Spend.Add(settledMicros, new("vendor", vendor), new("outcome", outcome));
        }
    }
}

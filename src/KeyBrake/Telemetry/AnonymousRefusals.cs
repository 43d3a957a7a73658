using System.Collections.Concurrent;

namespace KeyBrake.Telemetry;

/// <summary>
/// SPEC §4: refusals of requests with no token or an unknown token, and 404 <c>unknown_vendor</c>, are counted in
/// metrics and logged at most once a second per kind (the error code), with how many there were — never put in the
/// audit chain, and never a log line per request: nobody without a key can make the audit log or the log grow.
/// </summary>
internal sealed partial class AnonymousRefusals(TimeProvider time, ILogger<AnonymousRefusals> logger)
{
    // Keyed by error code: a fixed, small set of KeyBrake's own codes, never a value the caller chose.
    private readonly ConcurrentDictionary<string, OncePerSecondCount> _counts = new(StringComparer.Ordinal);

    public void Refused(string vendor, string code)
    {
        KeyBrakeMetrics.Denied(vendor, code);
        var count = _counts.GetOrAdd(code, static (_, clock) => new OncePerSecondCount(clock), time).Add();
        if (count > 0)
        {
            Log.Refused(logger, count, code);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, Level = LogLevel.Information,
            Message = "{Count} request(s) without a known vault key refused with {Code} (not audited; at most one such line a second per code)")]
        public static partial void Refused(ILogger logger, long count, string code);
    }
}

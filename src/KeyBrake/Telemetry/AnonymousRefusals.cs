using System.Collections.Concurrent;

namespace KeyBrake.Telemetry;

/// <summary>
/// SPEC §4: refusals of requests with no token or an unknown token, and 404 <c>unknown_vendor</c>, are counted in
/// metrics and logged at most once a second per kind (the error code), with how many there were — never put in the
/// audit chain, and never a log line per request: nobody without a key can make the audit log or the log grow.
/// </summary>
internal sealed partial class AnonymousRefusals(TimeProvider time, ILogger<AnonymousRefusals> logger)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    // Keyed by error code: a fixed, small set of KeyBrake's own codes, never a value the caller chose.
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    public void Refused(string vendor, string code)
    {
        KeyBrakeMetrics.Denied(vendor, code);
        var window = _windows.GetOrAdd(code, static _ => new Window());
        Interlocked.Increment(ref window.Pending);
        var now = time.GetTimestamp();
        var last = Volatile.Read(ref window.LastLogged);
        if (last != Window.Never && time.GetElapsedTime(last, now) < Interval)
        {
            return; // counted; the next line after the interval reports it
        }
        if (Interlocked.CompareExchange(ref window.LastLogged, now, last) != last)
        {
            return; // another request took this second's line
        }
        var count = Interlocked.Exchange(ref window.Pending, 0);
        if (count > 0)
        {
            Log.Refused(logger, count, code);
        }
    }

    private sealed class Window
    {
        public const long Never = long.MinValue;
        public long Pending;
        public long LastLogged = Never;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4201, Level = LogLevel.Information,
            Message = "{Count} request(s) without a known vault key refused with {Code} (not audited; at most one such line a second per code)")]
        public static partial void Refused(ILogger logger, long count, string code);
    }
}

namespace KeyBrake.Telemetry;

/// <summary>
/// Counts events that must never cost a log line each (SPEC §4: refusals nobody may use to grow the logs): every event
/// is counted, and at most once a second one caller is handed the count since the last line, to log.
/// </summary>
internal sealed class OncePerSecondCount(TimeProvider time)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private const long Never = long.MinValue;

    private long _pending;
    private long _lastLogged = Never;

    /// <summary>Counts one event; returns how many to report now (this second's line is the caller's), else 0.</summary>
    public long Add()
    {
        Interlocked.Increment(ref _pending);
        var now = time.GetTimestamp();
        var last = Volatile.Read(ref _lastLogged);
        if (last != Never && time.GetElapsedTime(last, now) < Interval)
        {
            return 0; // counted; the next line after the interval reports it
        }
        if (Interlocked.CompareExchange(ref _lastLogged, now, last) != last)
        {
            return 0; // another caller took this second's line
        }
        return Interlocked.Exchange(ref _pending, 0);
    }
}

using System.Diagnostics.Metrics;

namespace KeyBrake.Telemetry;

/// <summary>KeyBrake's instruments, on the meter <c>KeyBrake</c> (exported over OTLP when configured). Never a token or secret in a tag.</summary>
internal static class KeyBrakeMetrics
{
    public const string MeterName = "KeyBrake";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Secret store reads by <c>result</c>: <c>hit</c>, <c>miss</c> (the store was asked), <c>stale</c> (served past the TTL while the store failed).</summary>
    public static readonly Counter<long> SecretCache = Meter.CreateCounter<long>("keybrake.secrets.cache", "{read}", "Secret reads by cache result");

    public static void SecretCacheResult(string result) => SecretCache.Add(1, new KeyValuePair<string, object?>("result", result));
}

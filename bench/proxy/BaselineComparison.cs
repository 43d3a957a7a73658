using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace KeyBrake.Bench;

/// <summary>
/// Current build against a baseline build measured in the same run (bench/run.sh <c>--baseline REV</c>): per arm (G0, G)
/// and metric, current/baseline of the medians, the per-round ratios' range (the rounds are interleaved, so round r of
/// both builds shared the machine's state), and a noise figure: the larger relative half-spread (max−min)/2/median of
/// the two arms' rounds. A change is "worse beyond noise" when the ratio moves the wrong way by more than that.
/// </summary>
internal static class BaselineComparison
{
    /// <summary>Fewer rounds give no spread to judge by: the verdict is then n/a.</summary>
    public const int MinRoundsForVerdict = 3;

    private static readonly (string Key, string Label, string Format, bool HigherIsBetter)[] Metrics =
    [
        ("rps_32", "RPS @32", "0", true),
        ("p50_us_1", "p50 µs @1", "0", false),
        ("p99_us_1", "p99 µs @1", "0", false),
        ("cpu_us_per_req", "CPU µs/req", "0.0", false),
        ("alloc_bytes_per_req", "alloc B/req", "0", false),
    ];

    public static (string Markdown, JsonObject Json) Compare(
        Dictionary<string, List<Dictionary<string, double>>> rows, string[] arms, string baseSuffix, string currentLabel, string baselineLabel)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Current ({currentLabel}) against baseline ({baselineLabel}), both builds in the same run, rounds interleaved.");
        md.AppendLine("Ratio = current/baseline of the medians (per-round ratios min–max); noise = the larger half-spread of the two arms' rounds.");
        md.AppendLine();
        md.AppendLine("| arm | metric | current | baseline | current/baseline | noise ± | verdict |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        var json = new JsonObject { ["current"] = currentLabel, ["baseline"] = baselineLabel, ["min_rounds_for_verdict"] = MinRoundsForVerdict };
        var armsJson = new JsonObject();
        foreach (var arm in arms)
        {
            var (current, baseline) = (rows[arm], rows[arm + baseSuffix]);
            var armJson = new JsonObject();
            foreach (var (key, label, format, higherIsBetter) in Metrics)
            {
                var c = current.Select(r => r[key]).ToList();
                var b = baseline.Select(r => r[key]).ToList();
                var (medianC, medianB) = (Median(c), Median(b));
                var ratio = medianC / medianB;
                var perRound = c.Zip(b, (x, y) => x / y).Where(double.IsFinite).ToList();
                var (low, high) = perRound.Count > 0 ? (perRound.Min(), perRound.Max()) : (double.NaN, double.NaN);
                var noise = Math.Max(HalfSpread(c), HalfSpread(b));
                var verdict = Verdict(ratio, noise, higherIsBetter, Math.Min(c.Count, b.Count));
                armJson[key] = new JsonObject
                {
                    ["current"] = Number(medianC, 1),
                    ["baseline"] = Number(medianB, 1),
                    ["ratio"] = Number(ratio, 4),
                    ["round_ratio_min"] = Number(low, 4),
                    ["round_ratio_max"] = Number(high, 4),
                    ["noise"] = Number(noise, 4),
                    ["verdict"] = verdict,
                };
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {arm} | {label} | {Text(medianC, format)} | {Text(medianB, format)} | {Text(ratio, "0.000")} ({Text(low, "0.000")}–{Text(high, "0.000")}) | {Text(noise * 100, "0.0")}% | {verdict} |");
            }
            armsJson[arm] = armJson;
        }
        json["arms"] = armsJson;
        return (md.ToString(), json);
    }

    private static string Verdict(double ratio, double noise, bool higherIsBetter, int rounds)
    {
        if (rounds < MinRoundsForVerdict)
        {
            return $"n/a (< {MinRoundsForVerdict} rounds)";
        }
        if (!double.IsFinite(ratio))
        {
            return "n/a";
        }
        var worse = higherIsBetter ? 1 - ratio : ratio - 1; // > 0: the current build is worse
        return worse > noise ? "worse beyond noise" : -worse > noise ? "better beyond noise" : "within noise";
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToList();
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static double HalfSpread(List<double> values) =>
        values.Count == 0 || Median(values) == 0 ? 0 : (values.Max() - values.Min()) / 2 / Math.Abs(Median(values));

    /// <summary>JSON has no NaN: a figure that cannot be computed (a zero baseline) is null.</summary>
    private static JsonValue? Number(double value, int digits) => double.IsFinite(value) ? JsonValue.Create(Math.Round(value, digits)) : null;

    private static string Text(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";
}

// The audit writer and verifier alone, on a real SQLite file (WAL, synchronous=NORMAL), on this machine:
//   1. sustained append rate: producers enqueue as fast as the writer commits;
//   2. enqueue→durable latency with callers awaiting their commit, paced at 10,000 entries/s;
//   3. verify rate over the whole chain (reading from SQLite, recomputing every hash).
// Prints a Markdown table and writes bench/audit/results.json. Not a test: nothing here asserts.
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using KeyBrake.Audit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

var appendCount = Arg("--append", 300_000);
var rate = Arg("--rate", 10_000);
var seconds = Arg("--seconds", 5);
var checkpointEvery = Arg("--checkpoint-every", 1000L);
var directory = Directory.CreateTempSubdirectory("keybrake-audit-bench-").FullName;
// Each measurement on its own database, so one does not pay for the WAL the other left behind.
var appendDb = $"Data Source={Path.Combine(directory, "append.db")};Pooling=True";
var latencyDb = $"Data Source={Path.Combine(directory, "latency.db")};Pooling=True";
using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
var results = new Dictionary<string, object>
{
    ["date"] = TimeProvider.System.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}",
    ["synchronous"] = "NORMAL",
};

// 1. Sustained append rate.
await using (var writer = NewWriter(appendDb))
{
    writer.Start();
    var producers = 4;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
    {
        for (var i = 0; i < appendCount / producers; i++)
        {
            await writer.AppendAsync(Entry(i), TimeSpan.FromSeconds(30));
        }
    })));
    while (writer.HeadSeq < appendCount)
    {
        await writer.WaitForCommitAfterAsync(writer.HeadSeq, CancellationToken.None);
    }
    var elapsed = clock.Elapsed.TotalSeconds;
    results["append_entries"] = appendCount;
    results["append_entries_per_s"] = Math.Round(appendCount / elapsed);
}

// 2. Enqueue→durable latency at a fixed rate, every caller awaiting its own commit (as proxy.request does).
await using (var writer = NewWriter(latencyDb))
{
    writer.Start();
    var total = rate * seconds;
    var latencies = new double[total];
    var pending = new Task[total];
    // Paced in 1 ms steps (whatever is due is issued, then the thread sleeps) so the load generator does not
    // spin away one of the machine's two cores.
    var start = Stopwatch.GetTimestamp();
    for (var issued = 0; issued < total;)
    {
        var due = Math.Min(total, (int)(Stopwatch.GetElapsedTime(start).TotalSeconds * rate));
        for (; issued < due; issued++)
        {
            pending[issued] = Durable(writer, Entry(issued), latencies, issued);
        }
        Thread.Sleep(1);
    }
    await Task.WhenAll(pending);
    var achieved = total / Stopwatch.GetElapsedTime(start).TotalSeconds;
    var worst = Array.IndexOf(latencies, latencies.Max());
    results["durable_worst_at_s"] = Math.Round(worst / (double)rate, 2);
    results["durable_p99_after_first_second_us"] = Math.Round(latencies.Skip(rate).Order().ElementAt((int)((total - rate) * 0.99)));
    Array.Sort(latencies);
    results["durable_rate_target_per_s"] = rate;
    results["durable_rate_achieved_per_s"] = Math.Round(achieved);
    results["durable_p50_us"] = Math.Round(latencies[total / 2]);
    results["durable_p99_us"] = Math.Round(latencies[(int)(total * 0.99)]);
    results["durable_max_us"] = Math.Round(latencies[^1]);
}

// 3. Verify the whole chain the first measurement wrote.
using (var connection = new SqliteConnection(appendDb))
{
    connection.Open();
    var checkpoints = SqliteAuditStore.ReadCheckpoints(connection);
    var clock = Stopwatch.StartNew();
    var verified = ChainCheck.Full(connection, checkpoints, key);
    var elapsed = clock.Elapsed.TotalSeconds;
    if (!verified.Ok)
    {
        throw new InvalidOperationException(verified.Problem);
    }
    results["verify_entries"] = verified.Entries;
    results["verify_entries_per_s"] = Math.Round(verified.Entries / elapsed);
    results["checkpoints"] = checkpoints.Count;
}

SqliteConnection.ClearAllPools();
Directory.Delete(directory, recursive: true);

Console.WriteLine($"""
    | measure (bench/audit, {results["machine"]}, {results["date"]}) | result | target |
    |---|---|---|
    | sustained append, chained + committed ({results["append_entries"]} entries) | {results["append_entries_per_s"]:N0} entries/s | ≥ 50,000 |
    | enqueue→durable at {rate:N0}/s (achieved {results["durable_rate_achieved_per_s"]:N0}/s): p50 / p99 / max | {results["durable_p50_us"]} / {results["durable_p99_us"]} / {results["durable_max_us"]} µs | p99 ≤ 2,000 µs |
    | verify ({results["verify_entries"]} entries, {results["checkpoints"]} checkpoints) | {results["verify_entries_per_s"]:N0} entries/s | ≥ 500,000 |
    """);
var output = Path.Combine(AppContext.BaseDirectory, "results.json");
File.WriteAllText(Arg("--out", output), JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));

AuditWriter NewWriter(string connectionString) => new(new AuditWriterOptions
{
    ConnectionString = connectionString,
    CheckpointFile = Path.Combine(directory, connectionString.GetHashCode().ToString(CultureInfo.InvariantCulture) + ".ndjson"),
    CheckpointEvery = checkpointEvery,
}, key, TimeProvider.System, NullLogger.Instance);

static async Task Durable(AuditWriter writer, AuditEntry entry, double[] latencies, int index)
{
    var t0 = Stopwatch.GetTimestamp();
    if (!await writer.AppendDurableAsync(entry, TimeSpan.FromSeconds(30), abandonable: true, CancellationToken.None))
    {
        throw new InvalidOperationException("entry not committed");
    }
    latencies[index] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
}

static AuditEntry Entry(int i) => new()
{
    Ts = "2026-06-03T10:00:00.000Z",
    Type = AuditTypes.ProxyRequest,
    RequestId = "req_01JZ4Q7J6T9XG3M0F2K8B5N1" + (i % 100).ToString("00", CultureInfo.InvariantCulture),
    KeyId = "key_01JZ4Q7J6T9XG3M0F2K8B5N1" + (i % 64).ToString("00", CultureInfo.InvariantCulture),
    Label = "billing-agent-run-2026-06-03-batch-447",
    Actor = "key:key_01JZ4Q7J6T9XG3M0F2K8B5N1" + (i % 64).ToString("00", CultureInfo.InvariantCulture),
    Vendor = "stripe",
    Method = "POST",
    Path = "/v1/payment_intents",
    CostUsdMicros = 5_000_000,
    Decision = "allow:POST /v1/payment_intents",
    PolicyHash = "8a30e9f8ec2e31dfa4c50c5c8b7e8f6cfe397562940e775fd2c28edda0b4473d",
    Details = """{"amount_minor":500,"currency":"usd"}""",
};

T Arg<T>(string name, T fallback) where T : IParsable<T>
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? T.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

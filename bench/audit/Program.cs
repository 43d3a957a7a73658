// The audit writer and verifier alone, on a real SQLite file (WAL, synchronous=NORMAL), on this machine, in rounds:
//   1. sustained append rate: producers enqueue as fast as the writer commits;
//   2. enqueue→durable latency with callers awaiting their commit, paced at 10,000 entries/s;
//   3. verify rate over the chain of (1) (reading from SQLite, recomputing every hash).
// Each measurement on its own fresh database. Prints the median of the rounds with min–max as a Markdown table and
// writes bench/audit/results.json. Not a test: nothing here asserts.
// With --postgres SERVER [--writers N]: the chain on PostgreSQL with N writers (replicas) on one database instead
// (PostgresBench.cs; prints its table, writes no JSON).
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using KeyBrake.Audit;
using KeyBrake.Audit.Bench;
using KeyBrake.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

var rounds = Arg("--rounds", 5);
var appendCount = Arg("--append", 300_000);
var rate = Arg("--rate", 10_000);
var seconds = Arg("--seconds", 5);
using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
var measured = new Dictionary<string, List<double>>();

if (Array.IndexOf(args, "--postgres") is var pg and >= 0 && pg + 1 < args.Length)
{
    // The chain on PostgreSQL with --writers writers on one database (replicas): see PostgresBench.
    var writers = Arg("--writers", 3);
    var postgres = await PostgresBench.RunAsync(args[pg + 1], writers, rounds, appendCount, key, Entry);
    var machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}";
    var date = TimeProvider.System.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    Console.WriteLine(PostgresBench.Table(postgres, writers, rounds, appendCount, machine, date));
    return;
}

for (var round = 1; round <= rounds; round++)
{
    var directory = Directory.CreateTempSubdirectory("keybrake-audit-bench-").FullName;
    var appendDb = $"Data Source={Path.Combine(directory, "append.db")};Pooling=True";
    var latencyDb = $"Data Source={Path.Combine(directory, "latency.db")};Pooling=True";
    Record("append_entries_per_s", await AppendRateAsync(appendDb, directory));
    var (p50, p99, max) = await DurableLatencyAsync(latencyDb, directory);
    Record("durable_p50_us", p50);
    Record("durable_p99_us", p99);
    Record("durable_max_us", max);
    Record("verify_entries_per_s", VerifyRate(appendDb));
    SqliteConnection.ClearAllPools();
    Directory.Delete(directory, recursive: true);
    Console.Error.WriteLine($"round {round}/{rounds}: " + string.Join(", ", measured.Select(m => $"{m.Key}={m.Value[^1]:0}")));
}

var results = new Dictionary<string, object>
{
    ["date"] = TimeProvider.System.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}",
    ["command"] = "bench/audit/run.sh " + string.Join(' ', args.Where(a => a != "--out" && !a.EndsWith(".json", StringComparison.Ordinal))),
    ["synchronous"] = "NORMAL",
    ["rounds"] = rounds,
    ["append_entries"] = appendCount,
    ["durable_rate_per_s"] = rate,
    ["durable_seconds"] = seconds,
};
foreach (var (name, values) in measured)
{
    var sorted = values.Order().ToList();
    results[name] = new { median = Math.Round(sorted[sorted.Count / 2]), min = Math.Round(sorted[0]), max = Math.Round(sorted[^1]) };
}
string Cell(string name, string unit = "")
{
    var sorted = measured[name].Order().ToList();
    return string.Create(CultureInfo.InvariantCulture, $"{sorted[sorted.Count / 2]:N0}{unit} ({sorted[0]:N0}–{sorted[^1]:N0})");
}
Console.WriteLine($"""
    | measure (bench/audit, {results["machine"]}, {results["date"]}, median of {rounds} rounds, min–max) | result | target |
    |---|---|---|
    | sustained append, chained + committed ({appendCount:N0} entries) | {Cell("append_entries_per_s")} entries/s | ≥ 50,000 |
    | enqueue→durable at {rate:N0}/s for {seconds} s: p50 | {Cell("durable_p50_us", " µs")} | |
    | enqueue→durable at {rate:N0}/s for {seconds} s: p99 | {Cell("durable_p99_us", " µs")} | ≤ 2,000 µs |
    | enqueue→durable at {rate:N0}/s for {seconds} s: max | {Cell("durable_max_us", " µs")} | |
    | verify ({appendCount:N0} entries) | {Cell("verify_entries_per_s")} entries/s | ≥ 500,000 |
    """);
File.WriteAllText(Arg("--out", Path.Combine(AppContext.BaseDirectory, "results.json")), JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));

void Record(string name, double value)
{
    if (!measured.TryGetValue(name, out var values))
    {
        measured[name] = values = [];
    }
    values.Add(value);
}

async Task<double> AppendRateAsync(string db, string directory)
{
    await using var writer = NewWriter(db, directory);
    writer.Start();
    const int producers = 4;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
    {
        for (var i = 0; i < appendCount / producers; i++)
        {
            await writer.AppendAsync(Entry(i), TimeSpan.FromSeconds(30));
        }
    })));
    await writer.FlushAsync(CancellationToken.None);
    return appendCount / clock.Elapsed.TotalSeconds;
}

// Every caller awaits its own commit (as proxy.request does). Paced in 1 ms steps (whatever is due is issued, then the
// thread sleeps) so the load generator does not spin away one of the machine's two cores.
async Task<(double P50, double P99, double Max)> DurableLatencyAsync(string db, string directory)
{
    await using var writer = NewWriter(db, directory);
    writer.Start();
    var total = rate * seconds;
    var latencies = new double[total];
    var pending = new Task[total];
    var start = Stopwatch.GetTimestamp();
    for (var issued = 0; issued < total;)
    {
        var due = Math.Min(total, (int)(Stopwatch.GetElapsedTime(start).TotalSeconds * rate));
        for (; issued < due; issued++)
        {
            pending[issued] = DurableAsync(writer, Entry(issued), latencies, issued);
        }
        Thread.Sleep(1);
    }
    await Task.WhenAll(pending);
    Array.Sort(latencies);
    return (latencies[total / 2], latencies[(int)(total * 0.99)], latencies[^1]);
}

double VerifyRate(string db)
{
    var reader = new SqliteAuditReader(new SqliteDatabase(new SqliteStoreOptions { Path = PathOf(db) }, NullLogger<SqliteDatabase>.Instance));
    var checkpoints = reader.ReadCheckpoints();
    var clock = Stopwatch.StartNew();
    var verified = ChainCheck.Full(reader, checkpoints, key);
    var elapsed = clock.Elapsed.TotalSeconds;
    return verified.Ok ? verified.Entries / elapsed : throw new InvalidOperationException(verified.Problem);
}

AuditWriter NewWriter(string connectionString, string directory)
{
    var path = PathOf(connectionString);
    var database = new SqliteDatabase(new SqliteStoreOptions { Path = path }, NullLogger<SqliteDatabase>.Instance);
    return new(new AuditWriterOptions { CheckpointFile = Path.Combine(directory, path + ".checkpoints.ndjson") },
        new SqliteAuditChainStore(database, NullLogger<SqliteAuditChainStore>.Instance),
        new SqliteAuditReader(database), key, TimeProvider.System, NullLogger.Instance);
}

static string PathOf(string connectionString) => new SqliteConnectionStringBuilder(connectionString).DataSource;

static async Task DurableAsync(AuditWriter writer, AuditEntry entry, double[] latencies, int index)
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

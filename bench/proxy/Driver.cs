using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KeyBrake.Bench;

/// <summary>
/// Starts the stub vendor, Y, G0 and G as separate processes, then, interleaved over rounds: wrk at 32 connections
/// (throughput, CPU-µs and allocated bytes per request of the measured process), wrk at 1 connection (p50/p99), and
/// RSS after 128 connections; then revocation latency under load. Median of rounds (min–max) to Markdown and JSON.
/// With <c>--baseline-dll</c> (bench/run.sh <c>--baseline REV</c> builds it) the G0 and G of that other build run as
/// two more child processes, arms G0-base and G-base, in the same rounds: D and Y stay the shared reference, and the
/// report adds current/baseline per metric with the rounds' spread as the noise figure.
/// </summary>
internal static class Driver
{
    public const string AdminToken = "kba_bench_admin_token_000000000000";
    private const string BaseSuffix = "-base";
    private static readonly long ClockTicks = 100; // USER_HZ on Linux

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KeyBrake.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("KeyBrake.sln not found above " + AppContext.BaseDirectory);
    }

    private sealed record Options(int Rounds, int Seconds, int LatencySeconds, int RevocationTrials, string Out,
        string? BaselineDll, string BaselineLabel, string CurrentLabel, string? Postgres);

    /// <summary>An arm: one process, or several replicas of one deployment that the client spreads its connections over.</summary>
    private sealed record Target(string Name, IReadOnlyList<Process> Processes, IReadOnlyList<string> Urls, IReadOnlyList<int> StatsPorts)
    {
        public Target(string name, Process process, string url, int statsPort)
            : this(name, [process], [url], [statsPort])
        {
        }

        public int StatsPort => StatsPorts[0];
        public string Url => Urls[0];
    }

    private sealed record WrkResult(long Requests, double Seconds, long Errors, long Non2xx, double P50Us, double P99Us);

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Options(
            Int(args, "--rounds", 5), Int(args, "--seconds", 10), Int(args, "--latency-seconds", 10), Int(args, "--revocations", 40),
            Value(args, "--out") ?? Path.Combine(RepositoryRoot(), "bench", "proxy", "results.json"),
            Value(args, "--baseline-dll"), Value(args, "--baseline-label") ?? "baseline", Value(args, "--current-label") ?? "current",
            Value(args, "--postgres"));
        if (options.BaselineDll is { } baselineDll && !File.Exists(baselineDll))
        {
            throw new ArgumentException($"--baseline-dll {baselineDll} does not exist");
        }
        var work = Directory.CreateTempSubdirectory("keybrake-bench-").FullName;
        var children = new List<Process>();
        var databases = new List<string>();
        try
        {
            var (stubPort, yarpPort) = (Port(), Port());
            var stub = Start(children, "stub", "--port", stubPort.ToString(CultureInfo.InvariantCulture));
            var upstream = $"http://127.0.0.1:{stubPort}";
            var yarp = Start(children, "yarp", "--port", yarpPort.ToString(CultureInfo.InvariantCulture), "--upstream", upstream);
            await WaitUpAsync(stubPort);
            await WaitUpAsync(yarpPort);
            List<Target> targets =
            [
                new("D", stub, $"{upstream}/v1/payment_intents", stubPort),
                new("Y", yarp, $"http://127.0.0.1:{yarpPort}/stripe/v1/payment_intents", yarpPort),
            ];
            // Each build's KeyBrake is its own child process (the bench hosts KeyBrake in-process, so one build per process).
            foreach (var (suffix, dll) in options.BaselineDll is { } baseline ? new[] { ("", OwnDll), (BaseSuffix, baseline) } : [("", OwnDll)])
            {
                targets.Add(StartKeyBrake(children, dll, "G0" + suffix, upstream, work, noAudit: true));
                targets.Add(StartKeyBrake(children, dll, "G" + suffix, upstream, work, noAudit: false));
            }
            if (options.Postgres is { } server)
            {
                // SPEC §9: G on PostgreSQL, one replica, and three replicas of one database behind a round-robin client.
                var signingKey = Path.Combine(work, "audit-signing-key.pem");
                using (var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256))
                {
                    await File.WriteAllTextAsync(signingKey, key.ExportPkcs8PrivateKeyPem());
                }
                targets.Add(await StartReplicasAsync(children, databases, server, signingKey, "Gpg", 1, upstream, work));
                targets.Add(await StartReplicasAsync(children, databases, server, signingKey, "Gpg×3", 3, upstream, work));
            }
            var tokens = new Dictionary<string, string>();
            foreach (var target in targets.Skip(2))
            {
                foreach (var port in target.StatsPorts)
                {
                    await WaitUpAsync(port, target.Name);
                }
                tokens[target.Name] = await CreateKeyAsync(target.StatsPort, "bench-" + target.Name.ToLowerInvariant().Replace("×", "x", StringComparison.Ordinal));
            }
            tokens["D"] = tokens["Y"] = tokens["G"]; // D and Y ignore it; sent so every arm carries the same request
            var scripts = tokens.ToDictionary(t => t.Key, t => WrkScript(work, t.Key, t.Value));
            var variants = targets.Select(t => t.Name).ToList();

            Console.Error.WriteLine("warm-up…");
            foreach (var target in targets)
            {
                await WrkAsync(target.Urls, scripts[target.Name], connections: 32, threads: 2, seconds: 3);
            }

            var rows = variants.ToDictionary(v => v, _ => new List<Dictionary<string, double>>());
            for (var round = 1; round <= options.Rounds; round++)
            {
                // Interleaved, and rotated each round so no variant always runs first or last.
                foreach (var target in targets.Skip(round % targets.Count).Concat(targets.Take(round % targets.Count)))
                {
                    var m = new Dictionary<string, double>();
                    var (cpuBefore, allocBefore) = (CpuTicks(target.Processes), await AllocatedAsync(target.StatsPorts));
                    var load = await WrkAsync(target.Urls, scripts[target.Name], 32, 2, options.Seconds);
                    var (cpuAfter, allocAfter) = (CpuTicks(target.Processes), await AllocatedAsync(target.StatsPorts));
                    m["rps_32"] = load.Requests / load.Seconds;
                    m["cpu_us_per_req"] = (cpuAfter - cpuBefore) * (1_000_000.0 / ClockTicks) / load.Requests;
                    m["alloc_bytes_per_req"] = (double)(allocAfter - allocBefore) / load.Requests;
                    m["errors_32"] = load.Errors + load.Non2xx;
                    var single = await WrkAsync([target.Url], scripts[target.Name], 1, 1, options.LatencySeconds);
                    m["p50_us_1"] = single.P50Us;
                    m["p99_us_1"] = single.P99Us;
                    m["errors_1"] = single.Errors + single.Non2xx;
                    var wide = await WrkAsync(target.Urls, scripts[target.Name], 128, 2, 3);
                    m["rss_mb_128"] = target.Processes.Max(RssMb); // per process: the largest replica
                    m["errors_128"] = wide.Errors + wide.Non2xx;
                    rows[target.Name].Add(m);
                    Console.Error.WriteLine($"round {round} {target.Name}: {m["rps_32"]:0} rps, p50 {m["p50_us_1"]:0} µs, p99 {m["p99_us_1"]:0} µs, {m["cpu_us_per_req"]:0.0} cpu-µs/req, {m["alloc_bytes_per_req"]:0} B/req, {m["rss_mb_128"]:0} MB, errors {m["errors_32"] + m["errors_1"] + m["errors_128"]}");
                }
            }

            Console.Error.WriteLine("revocation latency…");
            var g = targets.Single(t => t.Name == "G");
            var revocation = await RevocationAsync(g.StatsPort, g.Url, options.RevocationTrials);
            if (targets.SingleOrDefault(t => t.Name == "Gpg×3") is { } replicas)
            {
                // SPEC §9: DELETE on replica A, the first 401 on replica B.
                revocation["across_replicas"] = await RevocationAsync(replicas.StatsPorts[0], replicas.Urls[1], options.RevocationTrials);
            }
            var report = Report(variants, rows, revocation, options);
            await File.WriteAllTextAsync(options.Out, report.Json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine(report.Markdown);
            Console.Error.WriteLine($"JSON: {options.Out}");
            return 0;
        }
        finally
        {
            foreach (var child in children)
            {
                if (!child.HasExited)
                {
                    child.Kill(entireProcessTree: true);
                    await child.WaitForExitAsync();
                }
            }
            foreach (var database in databases)
            {
                await DropDatabaseAsync(options.Postgres!, database);
            }
            Directory.Delete(work, recursive: true);
        }
    }

    private static string OwnDll => typeof(Driver).Assembly.Location;

    /// <summary>
    /// G (as shipped) or G0 (no-op audit trail) of one build: that build's KeyBrake.Bench.dll in its <c>keybrake</c> role,
    /// so a baseline build must take the same arguments (every revision since bench/proxy has).
    /// </summary>
    private static Target StartKeyBrake(List<Process> children, string dll, string name, string upstream, string work, bool noAudit)
    {
        var (port, admin) = (Port(), Port());
        string[] args = ["keybrake", "--port", $"{port}", "--admin-port", $"{admin}", "--upstream", upstream, "--data", Path.Combine(work, name.ToLowerInvariant())];
        var process = StartDll(children, dll, name, noAudit ? [.. args, "--no-audit"] : args);
        return new Target(name, process, $"http://127.0.0.1:{port}/stripe/v1/payment_intents", admin);
    }

    /// <summary><paramref name="count"/> replicas of G on a new database of <paramref name="server"/>.</summary>
    private static async Task<Target> StartReplicasAsync(List<Process> children, List<string> databases, string server, string signingKey,
        string name, int count, string upstream, string work)
    {
        var database = $"kb_bench_{Environment.ProcessId}_{count}";
        await using (var connection = new Npgsql.NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database}", connection);
            await create.ExecuteNonQueryAsync();
        }
        databases.Add(database);
        var connectionString = new Npgsql.NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
        var replicas = new List<Target>();
        for (var i = 0; i < count; i++)
        {
            var (port, admin) = (Port(), Port());
            var process = StartDll(children, OwnDll, $"{name}#{i + 1}", ["keybrake", "--port", $"{port}", "--admin-port", $"{admin}", "--upstream", upstream,
                "--data", Path.Combine(work, $"{name.ToLowerInvariant()}-{i + 1}"), "--postgres", connectionString, "--signing-key", signingKey]);
            replicas.Add(new Target(name, process, $"http://127.0.0.1:{port}/stripe/v1/payment_intents", admin));
            if (i == 0)
            {
                await WaitUpAsync(admin, name); // the first applies the migrations; the others find them done
            }
        }
        return new Target(name, [.. replicas.Select(r => r.Processes[0])], [.. replicas.Select(r => r.Url)], [.. replicas.Select(r => r.StatsPort)]);
    }

    private static async Task DropDatabaseAsync(string server, string database)
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        await using var connection = new Npgsql.NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    private static Process Start(List<Process> children, params string[] args) => StartDll(children, OwnDll, args[0], args);

    private static Process StartDll(List<Process> children, string dll, string name, string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["DOTNET_gcServer"] = "1";
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Console.Error.WriteLine($"[{name}] {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        children.Add(process);
        return process;
    }

    private static string WrkScript(string work, string name, string token)
    {
        var path = Path.Combine(work, $"post-{name}.lua");
        File.WriteAllText(path, $$"""
            wrk.method = "POST"
            wrk.body = "amount=100&currency=usd"
            wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
            wrk.headers["Authorization"] = "Bearer {{token}}"
            done = function(summary, latency, requests)
              local e = summary.errors
              io.write(string.format("BENCH %d %d %d %d %d %d\n", summary.requests, summary.duration,
                e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))
            end
            """);
        return path;
    }

    /// <summary>
    /// wrk against each of <paramref name="urls"/> at once, the connections split between them (a round-robin client
    /// over replicas): requests and errors summed; latencies are the first URL's.
    /// </summary>
    private static async Task<WrkResult> WrkAsync(IReadOnlyList<string> urls, string script, int connections, int threads, int seconds)
    {
        if (urls.Count == 1)
        {
            return await WrkAsync(urls[0], script, connections, threads, seconds);
        }
        var results = await Task.WhenAll(urls.Select((url, i) =>
            WrkAsync(url, script, connections / urls.Count + (i < connections % urls.Count ? 1 : 0), 1, seconds)));
        return new WrkResult(results.Sum(r => r.Requests), results.Max(r => r.Seconds), results.Sum(r => r.Errors), results.Sum(r => r.Non2xx),
            results[0].P50Us, results[0].P99Us);
    }

    private static async Task<WrkResult> WrkAsync(string url, string script, int connections, int threads, int seconds)
    {
        var info = new ProcessStartInfo("wrk") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-t", $"{threads}", "-c", $"{connections}", "-d", $"{seconds}s", "--timeout", "10s", "-s", script, url })
        {
            info.ArgumentList.Add(arg);
        }
        using var wrk = Process.Start(info) ?? throw new InvalidOperationException("wrk did not start (install Debian's wrk)");
        var output = await wrk.StandardOutput.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("BENCH ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("wrk printed no result:\n" + output + await wrk.StandardError.ReadToEndAsync());
        var f = line.Split(' ')[1..].Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        return new WrkResult((long)f[0], f[1] / 1e6, (long)f[2], (long)f[3], f[4], f[5]);
    }

    /// <summary>
    /// Time from <c>DELETE /v1/keys/{id}</c> returning to the first 401 for that key, with 8 clients calling with it
    /// (and checking that no call started after the DELETE returned was let through).
    /// </summary>
    private static async Task<JsonObject> RevocationAsync(int adminPort, string url, int trials)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64 };
        using var client = new HttpClient(handler);
        var latencies = new List<double>();
        var leaked = 0;
        for (var trial = 0; trial < trials; trial++)
        {
            var (token, id) = await CreateKeyWithIdAsync(adminPort, $"bench-revoke-{trial}");
            using var stop = new CancellationTokenSource();
            long revokedAt = long.MaxValue;
            var first401 = long.MaxValue;
            var loops = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent("amount=100&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded") };
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    using var response = await client.SendAsync(request);
                    var ended = Stopwatch.GetTimestamp();
                    if ((int)response.StatusCode == 401)
                    {
                        InterlockedMin(ref first401, ended);
                        return;
                    }
                    if (started > Volatile.Read(ref revokedAt))
                    {
                        Interlocked.Increment(ref leaked);
                    }
                }
            })).ToArray();
            await Task.Delay(200);
            using var admin = AdminClient(adminPort);
            (await admin.DeleteAsync($"/v1/keys/{id}?reason=bench")).EnsureSuccessStatusCode();
            Volatile.Write(ref revokedAt, Stopwatch.GetTimestamp());
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(30));
            stop.Cancel();
            latencies.Add(Math.Max(0, Stopwatch.GetElapsedTime(revokedAt, first401).TotalMicroseconds));
        }
        latencies.Sort();
        return new JsonObject
        {
            ["trials"] = trials,
            ["p50_us"] = Math.Round(Percentile(latencies, 50)),
            ["p99_us"] = Math.Round(Percentile(latencies, 99)),
            ["max_us"] = Math.Round(latencies[^1]),
            ["calls_let_through_after_revoke"] = leaked,
        };
    }

    private static void InterlockedMin(ref long target, long value)
    {
        long current;
        while (value < (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private static (string Markdown, JsonObject Json) Report(
        List<string> variantNames, Dictionary<string, List<Dictionary<string, double>>> rows, JsonObject revocation, Options options)
    {
        double Median(string v, string m) => Percentile([.. rows[v].Select(r => r[m]).Order()], 50);
        (double Min, double Max) Range(string v, string m) => (rows[v].Min(r => r[m]), rows[v].Max(r => r[m]));
        var json = new JsonObject
        {
            ["machine"] = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}",
            ["date"] = TimeProvider.System.GetUtcNow().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["rounds"] = options.Rounds,
            ["seconds"] = options.Seconds,
        };
        var metrics = new[] { "rps_32", "p50_us_1", "p99_us_1", "cpu_us_per_req", "alloc_bytes_per_req", "rss_mb_128", "errors_32", "errors_1", "errors_128" };
        var variants = new JsonObject();
        foreach (var v in variantNames)
        {
            var o = new JsonObject();
            foreach (var m in metrics)
            {
                var (min, max) = Range(v, m);
                o[m] = new JsonObject { ["median"] = Math.Round(Median(v, m), 1), ["min"] = Math.Round(min, 1), ["max"] = Math.Round(max, 1) };
            }
            variants[v] = o;
        }
        json["variants"] = variants;
        var ratios = new JsonObject
        {
            ["G/Y_rps"] = Math.Round(Median("G", "rps_32") / Median("Y", "rps_32"), 3),
            ["G0/Y_rps"] = Math.Round(Median("G0", "rps_32") / Median("Y", "rps_32"), 3),
            ["G/D_rps"] = Math.Round(Median("G", "rps_32") / Median("D", "rps_32"), 3),
            ["G-Y_p50_us"] = Math.Round(Median("G", "p50_us_1") - Median("Y", "p50_us_1")),
            ["G-Y_p99_us"] = Math.Round(Median("G", "p99_us_1") - Median("Y", "p99_us_1")),
            ["G-D_p50_us"] = Math.Round(Median("G", "p50_us_1") - Median("D", "p50_us_1")),
            ["G-D_p99_us"] = Math.Round(Median("G", "p99_us_1") - Median("D", "p99_us_1")),
            ["G-Y_cpu_us_per_req"] = Math.Round(Median("G", "cpu_us_per_req") - Median("Y", "cpu_us_per_req"), 1),
        };
        if (rows.ContainsKey("Gpg"))
        {
            ratios["Gpg/Y_rps"] = Math.Round(Median("Gpg", "rps_32") / Median("Y", "rps_32"), 3);
            ratios["Gpg×3/Y_rps"] = Math.Round(Median("Gpg×3", "rps_32") / Median("Y", "rps_32"), 3);
            ratios["Gpg-Y_p50_us"] = Math.Round(Median("Gpg", "p50_us_1") - Median("Y", "p50_us_1"));
            ratios["Gpg-Y_p99_us"] = Math.Round(Median("Gpg", "p99_us_1") - Median("Y", "p99_us_1"));
        }
        json["ratios"] = ratios;
        json["revocation"] = revocation;

        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"{json["machine"]}, {json["date"]}; {options.Rounds} rounds of {options.Seconds} s, median (min–max)");
        md.AppendLine();
        md.AppendLine("| | RPS @32 | p50 µs @1 | p99 µs @1 | CPU µs/req | alloc B/req | RSS MB @128 | errors |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var v in variantNames)
        {
            string Cell(string m, string format) => string.Create(CultureInfo.InvariantCulture,
                $"{Median(v, m).ToString(format, CultureInfo.InvariantCulture)} ({Range(v, m).Min.ToString(format, CultureInfo.InvariantCulture)}–{Range(v, m).Max.ToString(format, CultureInfo.InvariantCulture)})");
            var errors = rows[v].Sum(r => r["errors_32"] + r["errors_1"] + r["errors_128"]);
            md.AppendLine(CultureInfo.InvariantCulture, $"| {v} | {Cell("rps_32", "0")} | {Cell("p50_us_1", "0")} | {Cell("p99_us_1", "0")} | {Cell("cpu_us_per_req", "0.0")} | {Cell("alloc_bytes_per_req", "0")} | {Cell("rss_mb_128", "0")} | {errors} |");
        }
        md.AppendLine();
        md.AppendLine("| ratio / difference | value | target |");
        md.AppendLine("|---|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| G/Y throughput | {ratios["G/Y_rps"]} | ≥ 0.80 |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| G0/Y throughput | {ratios["G0/Y_rps"]} | ≥ 0.95 |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| G/D throughput | {ratios["G/D_rps"]} | |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| G−Y added p50 / p99 | {ratios["G-Y_p50_us"]} µs / {ratios["G-Y_p99_us"]} µs | ≤ 100 µs / ≤ 1000 µs |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| G−D added p50 / p99 | {ratios["G-D_p50_us"]} µs / {ratios["G-D_p99_us"]} µs | |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| G−Y extra CPU per request | {ratios["G-Y_cpu_us_per_req"]} µs | ≤ 15 µs |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| G RSS at 128 connections | {Median("G", "rss_mb_128"):0} MB | ≤ 200 MB |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| revocation → first 401 (p50 / p99, {revocation["trials"]} trials under 8 clients) | {revocation["p50_us"]} µs / {revocation["p99_us"]} µs; calls let through after the revoke: {revocation["calls_let_through_after_revoke"]} | |");
        if (rows.ContainsKey("Gpg"))
        {
            var across = revocation["across_replicas"]!;
            md.AppendLine(CultureInfo.InvariantCulture, $"| Gpg/Y throughput (PostgreSQL, one replica) | {ratios["Gpg/Y_rps"]} | ≥ 0.5 |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| Gpg×3/Y throughput (three replicas, connections spread over them) | {ratios["Gpg×3/Y_rps"]} | |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| Gpg−Y added p50 / p99 | {ratios["Gpg-Y_p50_us"]} µs / {ratios["Gpg-Y_p99_us"]} µs | |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| DELETE on replica A → first 401 on replica B (p50 / p99) | {across["p50_us"]} µs / {across["p99_us"]} µs; calls let through after the revoke: {across["calls_let_through_after_revoke"]} | p99 ≤ 10 ms |");
        }
        if (options.BaselineDll is not null)
        {
            var (table, comparison) = BaselineComparison.Compare(rows, ["G0", "G"], BaseSuffix, options.CurrentLabel, options.BaselineLabel);
            json["baseline_comparison"] = comparison;
            md.AppendLine();
            md.Append(table);
        }
        return (md.ToString(), json);
    }

    private static double Percentile(List<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }
        var rank = p / 100 * (sorted.Count - 1);
        var (lo, hi) = ((int)Math.Floor(rank), (int)Math.Ceiling(rank));
        return sorted[lo] + ((sorted[hi] - sorted[lo]) * (rank - lo));
    }

    private static long CpuTicks(IReadOnlyList<Process> processes) => processes.Sum(CpuTicks);

    private static long CpuTicks(Process process)
    {
        var stat = File.ReadAllText($"/proc/{process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture); // utime + stime
    }

    private static double RssMb(Process process) =>
        File.ReadLines($"/proc/{process.Id}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0).Single();

    private static async Task<long> AllocatedAsync(IReadOnlyList<int> ports)
    {
        var total = 0L;
        foreach (var port in ports)
        {
            total += await AllocatedAsync(port);
        }
        return total;
    }

    private static async Task<long> AllocatedAsync(int port)
    {
        using var http = new HttpClient();
        return long.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/__bench/allocated"), CultureInfo.InvariantCulture);
    }

    private static async Task WaitUpAsync(int port, string? name = null)
    {
        for (var i = 0; i < 300; i++)
        {
            try
            {
                await AllocatedAsync(port);
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }
        throw new InvalidOperationException($"nothing answers on port {port}{(name is null ? "" : $" ({name}: does that build's bench/proxy have the keybrake role?)")}");
    }

    private static HttpClient AdminClient(int port)
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    private static async Task<string> CreateKeyAsync(int adminPort, string label) => (await CreateKeyWithIdAsync(adminPort, label)).Token;

    private static async Task<(string Token, string Id)> CreateKeyWithIdAsync(int adminPort, string label)
    {
        using var admin = AdminClient(adminPort);
        using var response = await admin.PostAsync("/v1/keys", new StringContent(
            $$"""{"label":"{{label}}","vendor":"stripe","allowed_endpoints":["POST /v1/payment_intents"],"daily_usd_cap":1000000000,"expires_in":"7d"}""",
            Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException("creating a key failed: " + body);
        }
        var json = JsonNode.Parse(body)!;
        return (json["token"]!.GetValue<string>(), json["id"]!.GetValue<string>());
    }

    private static int Port()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static int Int(string[] args, string name, int fallback) =>
        Value(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string? Value(string[] args, string name) =>
        Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

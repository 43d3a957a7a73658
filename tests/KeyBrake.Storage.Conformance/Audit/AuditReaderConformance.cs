using KeyBrake.Audit;

namespace KeyBrake.Storage.Conformance.Audit;

/// <summary>
/// The contract of <see cref="IAuditReader"/> (SPEC §7): every filter member alone and together, text matched literally
/// (a <c>%</c> or <c>_</c> in a prefix is no wildcard, case counts), pages that return each entry once in seq order, the
/// export, the head and hashes, the verifier's feed, and a key's spend for a UTC day rebuilt from the chain.
/// </summary>
public abstract class AuditReaderConformance : AuditConformance
{
    /// <summary>
    /// Alters one field of the stored entry <paramref name="seq"/> behind the store's back (as someone holding the
    /// database could). False when the engine cannot let a test do that; the tamper test then checks nothing.
    /// </summary>
    protected virtual bool TryTamper(long seq) => false;

    /// <summary>The entries every filter test reads, in seq order (seq 1 first); all on 2026-06-03 but seq 11.</summary>
    private static readonly AuditEntry[] Seed =
    [
        Proxy(AuditTypes.ProxyRequest, "key_a", "run-1", "stripe", "r1", "10:00:00") with { CostUsdMicros = 5_000_000 },
        Proxy(AuditTypes.ProxyResponse, "key_a", "run-1", "stripe", "r1", "10:00:01") with { CostUsdMicros = 4_000_000, Outcome = AuditOutcomes.Executed, HttpStatus = 200 },
        Proxy(AuditTypes.ProxyRequest, "key_b", "run-10", "openai", "r3", "10:00:02") with { CostUsdMicros = 2_000 },
        Proxy(AuditTypes.ProxyResponse, "key_b", "run-10", "openai", "r3", "10:00:03") with { CostUsdMicros = 0, Outcome = AuditOutcomes.VendorRejected, HttpStatus = 400 },
        Proxy(AuditTypes.ProxyRequest, "key_c", "a%b_c", "twilio", "r5", "10:00:04") with { CostUsdMicros = 7_000 },
        Proxy(AuditTypes.ProxyDenied, "key_c", "a%b_c", "twilio", "r5", "10:00:05") with { Outcome = AuditOutcomes.Denied, HttpStatus = 403 },
        Proxy(AuditTypes.ProxyRequest, "key_d", "axbyc", "twilio", "r7", "10:00:06") with { CostUsdMicros = 1 },
        Admin(AuditTypes.KeyCreated, "key_e", "run-2", "10:00:07"),
        Admin(AuditTypes.KeyRevoked, "key_e", "run-2", "10:00:08"),
        Admin(AuditTypes.PrincipalCreated, null, null, "10:00:09"),
        Proxy(AuditTypes.ProxyRequest, "key_f", "RUN-1x", "stripe", "r11", "10:00:00") with { Ts = "2026-06-04T00:00:00.000Z", CostUsdMicros = 9_000_000 },
        Proxy(AuditTypes.ProxyRequest, "key_g", "run_1", "stripe", "r12", "10:00:10") with { CostUsdMicros = 3 },
    ];

    public static TheoryData<string, long[]> FilterCases => new()
    {
        { "none", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] },
        { "label", [1, 2] },
        { "label_prefix", [1, 2, 3, 4] },                 // not RUN-1x: case counts
        { "label_prefix_percent", [5, 6] },               // 'a%b' literally, not axbyc
        { "label_prefix_underscore", [12] },              // 'run_' literally, not run-1, run-10, run-2
        { "key_id", [3, 4] },
        { "vendor", [5, 6, 7] },
        { "type", [2, 4] },
        { "type_prefix", [8, 9] },
        { "type_prefix_underscore", [] },                 // 'proxy_' literally
        { "outcome", [4] },
        { "http_status", [6] },
        { "from_inclusive", [6, 7, 8, 9, 10, 11, 12] },
        { "to_exclusive", [1, 2] },
        { "from_to", [3, 4] },
        { "from_to_ts_out_of_seq_order", [10, 11, 12] }, // seq 12 was stamped before seq 11: still seq order
        { "min_cost_inclusive", [1, 11] },
        { "max_cost_inclusive", [3, 4, 7, 12] },          // entries without a cost never match a cost bound
        { "min_max_cost", [2, 3, 5, 7, 12] },
        { "after_seq", [10, 11, 12] },
        { "vendor_type", [1, 11, 12] },
        { "label_prefix_outcome", [2] },
        { "key_status_vendor", [6] },
        { "after_vendor_to", [6] },
        { "no_match", [] },
    };

    private static AuditFilter FilterFor(string name) => name switch
    {
        "none" => new AuditFilter(),
        "label" => new AuditFilter { Label = "run-1" },
        "label_prefix" => new AuditFilter { LabelPrefix = "run-1" },
        "label_prefix_percent" => new AuditFilter { LabelPrefix = "a%b" },
        "label_prefix_underscore" => new AuditFilter { LabelPrefix = "run_" },
        "key_id" => new AuditFilter { KeyId = "key_b" },
        "vendor" => new AuditFilter { Vendor = "twilio" },
        "type" => new AuditFilter { Type = AuditTypes.ProxyResponse },
        "type_prefix" => new AuditFilter { TypePrefix = "key." },
        "type_prefix_underscore" => new AuditFilter { TypePrefix = "proxy_" },
        "outcome" => new AuditFilter { Outcome = AuditOutcomes.VendorRejected },
        "http_status" => new AuditFilter { HttpStatus = 403 },
        "from_inclusive" => new AuditFilter { From = "2026-06-03T10:00:05.000Z" },
        "to_exclusive" => new AuditFilter { To = "2026-06-03T10:00:02.000Z" },
        "from_to" => new AuditFilter { From = "2026-06-03T10:00:02.000Z", To = "2026-06-03T10:00:04.000Z" },
        "from_to_ts_out_of_seq_order" => new AuditFilter { From = "2026-06-03T10:00:09.000Z", To = "2026-06-05T00:00:00.000Z" },
        "min_cost_inclusive" => new AuditFilter { MinCostMicros = 5_000_000 },
        "max_cost_inclusive" => new AuditFilter { MaxCostMicros = 2_000 },
        "min_max_cost" => new AuditFilter { MinCostMicros = 1, MaxCostMicros = 4_000_000 },
        "after_seq" => new AuditFilter { AfterSeq = 9 },
        "vendor_type" => new AuditFilter { Vendor = "stripe", Type = AuditTypes.ProxyRequest },
        "label_prefix_outcome" => new AuditFilter { LabelPrefix = "run-1", Outcome = AuditOutcomes.Executed },
        "key_status_vendor" => new AuditFilter { KeyId = "key_c", HttpStatus = 403, Vendor = "twilio" },
        "after_vendor_to" => new AuditFilter { AfterSeq = 5, Vendor = "twilio", To = "2026-06-03T10:00:06.000Z" },
        "no_match" => new AuditFilter { Vendor = "none" },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(FilterCases))]
    public async Task QueryAsync_AndExportAsync_Filter_ReturnExactlyTheMatchesInSeqOrder(string filter, long[] expected)
    {
        await SeedAsync();
        var reader = ReaderOf(Store);

        var page = await reader.QueryAsync(FilterFor(filter), 100, CancellationToken.None);
        var export = new List<AuditEntry>();
        await foreach (var entry in reader.ExportAsync(FilterFor(filter), CancellationToken.None))
        {
            export.Add(entry);
        }

        Assert.Equal(expected, page.Select(e => e.Seq));
        Assert.Equal(expected, export.Select(e => e.Seq));
    }

    [Theory]
    [InlineData("none", 5)]
    [InlineData("none", 1)]
    [InlineData("vendor", 2)]
    [InlineData("label_prefix", 3)]
    [InlineData("after_seq", 2)]
    [InlineData("from_to_ts_out_of_seq_order", 1)]
    public async Task QueryAsync_PagedByAfterSeq_ReturnsEveryMatchExactlyOnce_InSeqOrder(string filter, int limit)
    {
        var stored = await SeedAsync();
        var reader = ReaderOf(Store);
        var seen = new List<AuditEntry>();

        var after = FilterFor(filter).AfterSeq;
        while (true)
        {
            var page = await reader.QueryAsync(FilterFor(filter) with { AfterSeq = after }, limit, CancellationToken.None);
            Assert.InRange(page.Count, 0, limit);
            if (page.Count == 0)
            {
                break;
            }
            seen.AddRange(page);
            after = page[^1].Seq;
        }

        var expected = FilterCases.Single(c => (string)c[0] == filter)[1];
        Assert.Equal((long[])expected, seen.Select(e => e.Seq));
        Assert.Equal(seen.Select(e => e.Seq).Select(s => stored[(int)s - 1]), seen);
    }

    [Fact]
    public async Task QueryAsync_EveryField_IsReadBackAsWritten()
    {
        var full = new AuditEntry
        {
            Ts = "2026-06-03T10:00:00.123Z",
            Type = AuditTypes.ProxyResponse,
            RequestId = "req_full",
            KeyId = "key_full",
            Label = "run-447 ünïcödé",
            Actor = "key:key_full",
            Vendor = "stripe",
            Method = "POST",
            Path = "/v1/payment_intents",
            CostUsdMicros = 9_007_199_254_740_993, // above 2^53: an engine must not pass money through a double
            Decision = "allow:POST /v1/payment_intents",
            Outcome = AuditOutcomes.Executed,
            HttpStatus = 200,
            VendorRequestId = "req_vendor_1",
            Reason = "a \"quoted\" reason",
            PolicyHash = new string('a', 64),
            Details = """{"amount_minor":500,"currency":"usd"}""",
        };
        var writer = StartWriter(Store);
        Assert.True(await writer.AppendDurableAsync(full, LongWait, abandonable: false, CancellationToken.None));

        var stored = Assert.Single(await ReaderOf(Store).QueryAsync(new AuditFilter(), 10, CancellationToken.None));

        Assert.Equal(full with { Seq = 1, RunSeq = 1, PrevHash = AuditHash.Genesis, Hash = stored.Hash }, stored);
        Assert.Equal(AuditHash.Compute(stored), stored.Hash);
    }

    [Fact]
    public async Task ReadHead_AndHashAt_EmptyStoreIsSeqZeroAndGenesis_ThenTheLastCommit()
    {
        var reader = ReaderOf(Store);
        Assert.Equal(new AuditHead(0, AuditHash.Genesis), reader.ReadHead());
        Assert.Null(reader.HashAt(1));

        var stored = await SeedAsync();

        Assert.Equal(new AuditHead(12, stored[^1].Hash), reader.ReadHead());
        Assert.All(stored, e => Assert.Equal(e.Hash, reader.HashAt(e.Seq)));
        Assert.Null(reader.HashAt(0));
        Assert.Null(reader.HashAt(13));
    }

    [Fact]
    public async Task Feed_DrivesAVerifierToOk_WholeChainOrARange()
    {
        var stored = await SeedAsync();
        var reader = ReaderOf(Store);
        var checkpoints = reader.ReadCheckpoints();

        var whole = new AuditVerifier(checkpoints, SigningKey);
        reader.Feed(0, long.MaxValue, whole);
        var range = new AuditVerifier([], SigningKey, startSeq: 4, startHash: reader.HashAt(4));
        reader.Feed(4, 9, range);

        Assert.Equal(new VerifyResult(true, 12, 12, stored[^1].Hash, null, null), whole.Finish());
        Assert.Equal(new VerifyResult(true, 5, 9, stored[8].Hash, null, null), range.Finish());
    }

    [Fact]
    public async Task Feed_TamperedEntry_IsReportedAtItsSeq()
    {
        await SeedAsync();
        if (!TryTamper(7))
        {
            return; // this engine keeps tests from altering its rows
        }
        var reader = ReaderOf(Store);

        var verifier = new AuditVerifier(reader.ReadCheckpoints(), SigningKey);
        reader.Feed(0, long.MaxValue, verifier);
        var result = verifier.Finish();

        Assert.False(result.Ok);
        Assert.Equal(7, result.FirstBadSeq);
        Assert.False(ChainCheck.Full(reader, reader.ReadCheckpoints(), SigningKey).Ok);
    }

    [Fact]
    public async Task SpentOnAsync_RebuildsTheKeysUtcDayFromTheChain()
    {
        var writer = StartWriter(Store);
        AuditEntry Call(string type, string requestId, string ts, long? cost, string key = "key_s") =>
            Entry(type, key, requestId, ts) with { CostUsdMicros = cost };
        AuditEntry[] day =
        [
            Call(AuditTypes.ProxyRequest, "r0", "2026-06-02T23:59:59.999Z", 7_000_000),       // the day before, answered after midnight
            Call(AuditTypes.ProxyRequest, "r1", "2026-06-03T00:00:00.000Z", 1_000_000),
            Call(AuditTypes.ProxyResponse, "r0", "2026-06-03T00:00:00.100Z", 6_000_000),
            Call(AuditTypes.ProxyResponse, "r1", "2026-06-03T00:00:01.000Z", 800_000),         // settled: 800,000
            Call(AuditTypes.ProxyRequest, "r2", "2026-06-03T08:00:00.000Z", 500_000),
            Call(AuditTypes.ProxyResponse, "r2", "2026-06-03T08:00:01.000Z", 0) with { HttpStatus = 400 }, // released by a 4xx
            Call(AuditTypes.ProxyRequest, "r3", "2026-06-03T09:00:00.000Z", 300_000),
            Call(AuditTypes.ProxyDenied, "r3", "2026-06-03T09:00:00.500Z", null),             // released: never sent
            Call(AuditTypes.ProxyRequest, "r4", "2026-06-03T23:59:59.999Z", 200_000),         // no answer: in doubt, counts
            Call(AuditTypes.ProxyRequest, "x1", "2026-06-03T10:00:00.000Z", 50_000_000, key: "key_other"),
            Call(AuditTypes.ProxyRequest, "r5", "2026-06-04T00:00:00.000Z", 9_000_000),       // the next day
        ];
        foreach (var entry in day)
        {
            Assert.True(await writer.AppendDurableAsync(entry, LongWait, abandonable: false, CancellationToken.None));
        }
        var reader = ReaderOf(Store);

        Assert.Equal(1_000_000, await reader.SpentOnAsync("key_s", new DateOnly(2026, 6, 3), CancellationToken.None));
        Assert.Equal(6_000_000, await reader.SpentOnAsync("key_s", new DateOnly(2026, 6, 2), CancellationToken.None));
        Assert.Equal(9_000_000, await reader.SpentOnAsync("key_s", new DateOnly(2026, 6, 4), CancellationToken.None));
        Assert.Equal(0, await reader.SpentOnAsync("key_s", new DateOnly(2026, 6, 5), CancellationToken.None));
        Assert.Equal(0, await reader.SpentOnAsync("key_none", new DateOnly(2026, 6, 3), CancellationToken.None));
        Assert.Equal(50_000_000, await reader.SpentOnAsync("key_other", new DateOnly(2026, 6, 3), CancellationToken.None));
    }

    /// <summary>Writes <see cref="Seed"/> through the writer and returns it as stored (index = seq - 1).</summary>
    private async Task<List<AuditEntry>> SeedAsync()
    {
        var writer = StartWriter(Store);
        foreach (var entry in Seed)
        {
            Assert.True(await writer.AppendDurableAsync(entry, LongWait, abandonable: false, CancellationToken.None));
        }
        var stored = await ReadAllAsync(ReaderOf(Store));
        Assert.Equal(Seed.Length, stored.Count);
        return stored;
    }

    private static AuditEntry Proxy(string type, string keyId, string label, string vendor, string requestId, string time) =>
        Entry(type, keyId, requestId, $"2026-06-03T{time}.000Z") with { Label = label, Vendor = vendor, Method = "POST", Path = "/v1/x" };

    private static AuditEntry Admin(string type, string? keyId, string? label, string time) =>
        Entry(type, keyId, null, $"2026-06-03T{time}.000Z") with { Label = label };
}

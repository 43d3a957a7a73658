using System.Text;
using KeyBrake.Keys;
using KeyBrake.Policy;
using KeyBrake.Spend;
using KeyBrake.Spend.Pricing;
using KeyBrake.Tests.Spend.Pricing;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.Tests.Spend;

/// <summary>The spend step alone (SPEC §4 step 7, §5): decisions from plain values, no HTTP.</summary>
public sealed class SpendGateTests
{
    private const string Form = "application/x-www-form-urlencoded";
    private const string Messages = "/2010-04-01/Accounts/AC1/Messages.json";
    private static readonly long Usd = MicroUsd.PerUsd;

    [Fact]
    public async Task ReserveAsync_PricedCallUnderTheCap_IsReservedWithWhatRemains()
    {
        var (sut, ledger) = CreateSut(spentToday: 3 * Usd);

        var decision = await sut.ReserveAsync(Key(capUsd: 10), Charge(500), default);

        Assert.Equal((SpendVerdict.Reserved, 5 * Usd, 2 * Usd), (decision.Verdict, decision.Estimate.Value, decision.Remaining.Value));
        Assert.Equal(new LedgerFigures(3 * Usd, 5 * Usd), await ledger.TodayAsync("key_1", default));
    }

    [Fact]
    public async Task ReserveAsync_OverTheCap_IsCapExceededWithTheFigures_AndReservesNothing()
    {
        var (sut, ledger) = CreateSut(spentToday: 8 * Usd);
        await sut.ReserveAsync(Key(capUsd: 10), Charge(100), default); // $1 reserved, in flight

        var decision = await sut.ReserveAsync(Key(capUsd: 10), Charge(500), default);

        Assert.Equal(SpendVerdict.CapExceeded, decision.Verdict);
        Assert.Equal((10 * Usd, 8 * Usd, 1 * Usd, 5 * Usd, 1 * Usd),
            (decision.Cap.Value, decision.SpentToday.Value, decision.ReservedToday.Value, decision.Estimate.Value, decision.Remaining.Value));
        Assert.False(decision.Ledger.Granted);
        Assert.Equal(new LedgerFigures(8 * Usd, 1 * Usd), await ledger.TodayAsync("key_1", default));
    }

    [Fact]
    public async Task ReserveAsync_UnpriceableWrite_IsUnpriceableWithTheReason_AndReservesNothing()
    {
        var (sut, ledger) = CreateSut();

        var decision = await sut.ReserveAsync(Key(), Request("stripe", "POST", "/v1/subscriptions", "customer=cus_1"), default);

        Assert.Equal((SpendVerdict.Unpriceable, 0L), (decision.Verdict, decision.Estimate.Value));
        Assert.StartsWith("POST /v1/subscriptions is neither a write KeyBrake prices for stripe", decision.Refusal, StringComparison.Ordinal);
        Assert.Equal(new LedgerFigures(0, 0), await ledger.TodayAsync("key_1", default));
    }

    [Fact]
    public async Task ReserveAsync_UpstreamLookup_IsPricedByTheVendorsLookup_OnTheCallsAccount()
    {
        var lookup = new Lookup(new Price(new MicroUsd(7 * Usd), "usd", 700));
        var (sut, _) = CreateSut(lookup: lookup);

        var decision = await sut.ReserveAsync(Key(accounts: ["acct_1"]), Request("stripe", "POST", "/v1/payment_intents/pi_1/capture", "", "acct_1"), default);

        Assert.Equal((SpendVerdict.Reserved, 7 * Usd), (decision.Verdict, decision.Estimate.Value));
        Assert.Equal(("/v1/payment_intents/pi_1", "amount_capturable", "acct_1", "acct_1"),
            (lookup.Asked!.Path, lookup.Asked.AmountField, lookup.Account.ToString(), lookup.Allowed![0]));
    }

    [Fact]
    public async Task ReserveAsync_UpstreamLookupWithNoReaderForTheVendor_IsUnpriceable()
    {
        var (sut, _) = CreateSut();

        var decision = await sut.ReserveAsync(Key(), Request("stripe", "POST", "/v1/payment_intents/pi_1/capture", ""), default);

        Assert.Equal(SpendVerdict.Unpriceable, decision.Verdict);
    }

    [Fact]
    public async Task ReserveAndSettleAsync_ACallOnAnOpenDay_AllocateOnlyTheDecision()
    {
        var (sut, _) = CreateSut();
        var (key, read) = (Key(), Request("stripe", "GET", "/v1/charges", ""));
        await sut.SettleAsync(await sut.ReserveAsync(key, read, default), 200, false, null, default); // the day is open, the code warm

        var before = GC.GetAllocatedBytesForCurrentThread();
        var decision = await sut.ReserveAsync(key, read, default);
        await sut.SettleAsync(decision, 200, false, null, default);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The hot path: one SpendDecision (88 bytes on x64). The ledger's reservation is a value, and no task or state
        // machine is made: every ValueTask completes synchronously (Debug builds box an async method's state machine).
        Assert.Equal(SpendVerdict.Reserved, decision.Verdict);
        Assert.InRange(allocated, 1, 96);
    }

    [Theory]
    [InlineData(200, false, 5_000_000)]  // executed: counts
    [InlineData(201, true, 0)]           // Idempotent-Replayed: the first call counted
    [InlineData(402, false, 0)]          // rejected: released
    [InlineData(404, false, 0)]
    [InlineData(500, false, 5_000_000)]  // in doubt: it may have moved money
    [InlineData(503, false, 5_000_000)]
    [InlineData(null, false, 5_000_000)] // no answer (time-out, broken connection): in doubt
    public async Task SettleAsync_ByUpstreamStatus_CountsWhatSpecSays(int? status, bool replayed, long counted)
    {
        var (sut, ledger) = CreateSut();
        var decision = await sut.ReserveAsync(Key(), Charge(500), default);

        var settled = await sut.SettleAsync(decision, status, replayed, null, default);

        Assert.Equal(counted, settled.Value);
        Assert.Equal(new LedgerFigures(counted, 0), await ledger.TodayAsync("key_1", default));
    }

    [Theory]
    [InlineData("""{"sid":"SM1","price":"-0.00750","price_unit":"USD"}""", 7_500)]
    [InlineData("""{"sid":"SM1","price":null,"price_unit":"USD"}""", 8_300)]     // not known yet: the estimate
    [InlineData("""{"sid":"SM1","price":"-0.00750","price_unit":"EUR"}""", 8_300)] // not USD: the estimate
    public async Task SettleAsync_TwilioSuccess_CountsTheStatedUsdPrice(string json, long counted)
    {
        var (sut, ledger) = CreateSut();
        var decision = await sut.ReserveAsync(Key(vendor: "twilio"), Request("twilio", "POST", Messages, "To=%2B15555550100&Body=hi"), default);

        var settled = await sut.SettleAsync(decision, 201, false, Encoding.UTF8.GetBytes(json), default);

        Assert.Equal(counted, settled.Value);
        Assert.Equal(new LedgerFigures(counted, 0), await ledger.TodayAsync("key_1", default));
    }

    [Fact]
    public async Task SettleAsync_StripeSuccessWithAPriceInItsBody_CountsTheEstimate()
    {
        var (sut, _) = CreateSut();
        var decision = await sut.ReserveAsync(Key(), Charge(500), default);

        var settled = await sut.SettleAsync(decision, 200, false, Encoding.UTF8.GetBytes("""{"price":"-0.01","price_unit":"USD"}"""), default);

        Assert.Equal(5 * Usd, settled.Value); // only a vendor whose profile states prices is settled from its body
    }

    [Fact]
    public async Task ReleaseAsync_GivesTheReservationBack()
    {
        var (sut, ledger) = CreateSut(spentToday: 2 * Usd);
        var decision = await sut.ReserveAsync(Key(), Charge(500), default);

        await sut.ReleaseAsync(decision, default);

        Assert.Equal(new LedgerFigures(2 * Usd, 0), await ledger.TodayAsync("key_1", default));
        Assert.Equal((2 * Usd, 0L), ((await sut.TodayAsync(Key(), default)).Spent.Value, (await sut.TodayAsync(Key(), default)).Reserved.Value));
    }

    [Fact]
    public async Task ReleaseAsync_ARefusal_ChangesNothing()
    {
        var (sut, ledger) = CreateSut(spentToday: 9 * Usd);
        await sut.ReserveAsync(Key(capUsd: 10), Charge(50), default);
        var refused = await sut.ReserveAsync(Key(capUsd: 10), Charge(500), default);

        await sut.ReleaseAsync(refused, default);

        Assert.Equal(new LedgerFigures(9 * Usd, Usd / 2), await ledger.TodayAsync("key_1", default));
    }

    private static (SpendGate Sut, SpendLedger Ledger) CreateSut(long spentToday = 0, IPriceLookup? lookup = null)
    {
        var ledger = new SpendLedger(new FakeTimeProvider(new DateTimeOffset(2026, 6, 3, 12, 0, 0, TimeSpan.Zero)), new History(spentToday));
        return (new SpendGate(DefaultDenyTests.CreateSut(), lookup is null ? [] : [lookup], ledger, Microsoft.Extensions.Logging.Abstractions.NullLogger<SpendGate>.Instance), ledger);
    }

    private static SpendRequest Charge(int cents) => Request("stripe", "POST", "/v1/charges", $"amount={cents}&currency=usd");

    private static SpendRequest Request(string vendor, string method, string path, string body, string? stripeAccount = null)
    {
        (RequestFields? Fields, string? Error)? parsed = null;
        return new SpendRequest(vendor, method, path,
            () => parsed ??= (RequestFields.Parse(Form, null, Encoding.UTF8.GetBytes(body), null, out var error), error),
            stripeAccount is null ? StringValues.Empty : new StringValues(stripeAccount));
    }

    private static VaultKey Key(long capUsd = 100, string vendor = "stripe", IReadOnlyList<string>? accounts = null) => new()
    {
        Id = "key_1", TokenHash = "h", Label = "run-1", Vendor = vendor,
        Endpoints = EndpointPolicy.FromValidated(["/*"]), DailyCapMicros = capUsd * MicroUsd.PerUsd,
        ExpiresAt = DateTimeOffset.MaxValue, CreatedAt = DateTimeOffset.UnixEpoch, CreatedBy = "test", MetadataJson = "{}", PolicyHash = "h",
        StripeAccounts = accounts ?? [],
    };

    private sealed class History(long spent) : ISpendHistory
    {
        public ValueTask<long> SpentOnAsync(string keyId, DateOnly day, CancellationToken cancellationToken) => ValueTask.FromResult(spent);
    }

    private sealed class Lookup(Price price) : IPriceLookup
    {
        public string Vendor => "stripe";

        public UpstreamLookup? Asked { get; private set; }

        public StringValues Account { get; private set; }

        public IReadOnlyList<string>? Allowed { get; private set; }

        public ValueTask<Price> PriceAsync(UpstreamLookup lookup, SpendRequest request, IReadOnlyList<string> allowedAccounts, CancellationToken cancellationToken)
        {
            (Asked, Account, Allowed) = (lookup, request.StripeAccount, allowedAccounts);
            return ValueTask.FromResult(price);
        }
    }
}

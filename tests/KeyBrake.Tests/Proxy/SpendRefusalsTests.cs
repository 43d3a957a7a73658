using System.Text;
using KeyBrake.Keys;
using KeyBrake.Policy;
using KeyBrake.Proxy;
using KeyBrake.Spend;
using KeyBrake.Spend.Pricing;
using Microsoft.AspNetCore.Http;

namespace KeyBrake.Tests.Proxy;

/// <summary>SPEC §5: the spend step's decisions as the agent reads them, byte for byte.</summary>
public sealed class SpendRefusalsTests
{
    [Fact]
    public async Task For_CapExceeded_Is402WithTheFigures()
    {
        var decision = new SpendDecision(SpendVerdict.CapExceeded, "stripe", new Price(new MicroUsd(300_000)), new MicroUsd(10_000_000),
            new LedgerReservation("key_1", new DateOnly(2026, 6, 3), new MicroUsd(300_000), Granted: false, new LedgerFigures(8_500_000, 1_250_000)));

        var (status, body) = await Write(SpendRefusals.For(decision, Key()));

        const string Message = "Vault key key_1 has $0.25 of its $10 daily cap left; this call needs $0.3.";
        Assert.Equal(402, status);
        Assert.Equal(Expected("daily_cap_exceeded", Message, ""","cap_usd":10,"spent_usd":8.5,"reserved_usd":1.25,"requested_usd":0.3"""), body);
    }

    [Fact]
    public async Task For_Unpriceable_Is422WithTheReason()
    {
        var decision = new SpendDecision(SpendVerdict.Unpriceable, "stripe", Price.Unpriceable("POST /v1/subscriptions is neither priced nor free"));

        var (status, body) = await Write(SpendRefusals.For(decision, Key()));

        const string Message = "This call can move money but cannot be priced: POST /v1/subscriptions is neither priced nor free.";
        Assert.Equal(422, status);
        Assert.Equal(Expected("unpriceable_request", Message, ""), body);
    }

    [Fact]
    public void For_Reserved_IsNull()
    {
        var decision = new SpendDecision(SpendVerdict.Reserved, "stripe", Price.Free, new MicroUsd(10_000_000),
            new LedgerReservation("key_1", new DateOnly(2026, 6, 3), default, Granted: true, default));

        Assert.Null(SpendRefusals.For(decision, Key()));
    }

    /// <summary>SPEC §4's error body, spelled out.</summary>
    private static string Expected(string code, string message, string extra) =>
        $$"""{"error":{"type":"keybrake_error","code":"{{code}}","message":"{{message}}","request_id":"req_unassigned","retryable":false{{extra}}},"code":"{{code}}","message":"{{message}}"}""";

    private static async Task<(int Status, string Body)> Write(KeyBrakeError? error)
    {
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;
        await error!.WriteAsync(context);
        return (context.Response.StatusCode, Encoding.UTF8.GetString(body.ToArray()));
    }

    private static VaultKey Key() => new()
    {
        Id = "key_1", TokenHash = "h", Label = "run-1", Vendor = "stripe",
        Endpoints = EndpointPolicy.FromValidated(["/v1/charges"]), DailyCapMicros = 10_000_000,
        ExpiresAt = DateTimeOffset.MaxValue, CreatedAt = DateTimeOffset.UnixEpoch, CreatedBy = "test", MetadataJson = "{}", PolicyHash = "h",
    };
}

using System.Security.Cryptography;
using System.Text;
using KeyBrake.Policy;

namespace KeyBrake.Tests.Policy;

public sealed class PolicyHashTests
{
    private static readonly DateTimeOffset At = new(2026, 6, 3, 16, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Compute_IsSha256OfTheJcsTextOfSpecV2sMembers_GuardrailsNull()
    {
        var hash = PolicyHash.Compute("stripe", ["POST /v1/payment_intents", "GET /v1/customers/*"], 50_000_000, ["acct_1Zb", "acct_0Aa"], At);

        // Written out by hand: members sorted by UTF-16 code units, no whitespace, the four guardrail members null
        // (issue 14), stripe_accounts in the order given.
        const string jcs = """{"allowed_endpoints":["POST /v1/payment_intents","GET /v1/customers/*"],"approval_above_usd_micros":null,"daily_usd_cap_micros":50000000,"expires_at":"2026-06-03T16:00:00.000Z","max_usd_per_call_micros":null,"on_anomaly":null,"requests_per_minute":null,"stripe_accounts":["acct_1Zb","acct_0Aa"],"vendor":"stripe"}""";
        Assert.Equal(Sha256(jcs), hash);
    }

    [Fact]
    public void Compute_NoStripeAccounts_IsAnEmptyList_NotNull()
    {
        var hash = PolicyHash.Compute("twilio", ["POST /2010-04-01/Accounts/*/Messages.json"], 1, [], At);

        const string jcs = """{"allowed_endpoints":["POST /2010-04-01/Accounts/*/Messages.json"],"approval_above_usd_micros":null,"daily_usd_cap_micros":1,"expires_at":"2026-06-03T16:00:00.000Z","max_usd_per_call_micros":null,"on_anomaly":null,"requests_per_minute":null,"stripe_accounts":[],"vendor":"twilio"}""";
        Assert.Equal(Sha256(jcs), hash);
    }

    [Fact]
    public void Compute_ChangesWithEveryPolicyField()
    {
        var baseline = PolicyHash.Compute("stripe", ["GET /v1/x"], 1, [], At);

        Assert.NotEqual(baseline, PolicyHash.Compute("resend", ["GET /v1/x"], 1, [], At));
        Assert.NotEqual(baseline, PolicyHash.Compute("stripe", ["GET /v1/y"], 1, [], At));
        Assert.NotEqual(baseline, PolicyHash.Compute("stripe", ["GET /v1/x"], 2, [], At));
        Assert.NotEqual(baseline, PolicyHash.Compute("stripe", ["GET /v1/x"], 1, ["acct_1"], At));
        Assert.NotEqual(baseline, PolicyHash.Compute("stripe", ["GET /v1/x"], 1, [], At.AddMilliseconds(1)));
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

using System.Security.Cryptography;
using System.Text;
using KeyBrake.Policy;

namespace KeyBrake.Tests.Policy;

public sealed class PolicyHashTests
{
    [Fact]
    public void Compute_IsSha256OfTheJcsText()
    {
        var hash = PolicyHash.Compute("stripe", ["POST /v1/payment_intents", "GET /v1/customers/*"], 50_000_000,
            new DateTimeOffset(2026, 6, 3, 16, 0, 0, TimeSpan.Zero));

        const string jcs = """{"allowed_endpoints":["POST /v1/payment_intents","GET /v1/customers/*"],"daily_usd_cap_micros":50000000,"expires_at":"2026-06-03T16:00:00.000Z","vendor":"stripe"}""";
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(jcs))), hash);
    }

    [Fact]
    public void Compute_ChangesWithEveryPolicyField()
    {
        var at = new DateTimeOffset(2026, 6, 3, 16, 0, 0, TimeSpan.Zero);
        var baseline = PolicyHash.Compute("stripe", ["GET /v1/x"], 1, at);

        Assert.NotEqual(baseline, PolicyHash.Compute("resend", ["GET /v1/x"], 1, at));
        Assert.NotEqual(baseline, PolicyHash.Compute("stripe", ["GET /v1/y"], 1, at));
        Assert.NotEqual(baseline, PolicyHash.Compute("stripe", ["GET /v1/x"], 2, at));
        Assert.NotEqual(baseline, PolicyHash.Compute("stripe", ["GET /v1/x"], 1, at.AddMilliseconds(1)));
    }
}

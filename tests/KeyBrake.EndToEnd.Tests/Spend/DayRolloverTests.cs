using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.EndToEnd.Tests.Spend;

/// <summary>The cap is per UTC day: at midnight a key's spend starts again from zero.</summary>
public sealed class DayRolloverTests() : HostedTest(new FakeTimeProvider(new DateTimeOffset(2026, 6, 3, 23, 58, 0, TimeSpan.Zero)))
{
    [Fact]
    public async Task Cap_ResetsAtUtcMidnight()
    {
        var (id, token) = await Host.CreateKeyAsync("rollover-run", "stripe", ["POST /v1/payment_intents"], cap: 5, ttl: "4h");

        using var spent = await Intent(token);
        using var refused = await Intent(token);
        Time!.Advance(TimeSpan.FromMinutes(3)); // 00:01 the next day
        using var nextDay = await Intent(token);
        var key = await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.PaymentRequired, HttpStatusCode.OK), (spent.StatusCode, refused.StatusCode, nextDay.StatusCode));
        Assert.Equal("0", nextDay.Headers.GetValues("X-KeyBrake-Remaining-Usd").Single());
        Assert.Equal(5m, key.GetProperty("spent_today_usd").GetDecimal());
        Assert.Equal(2, Vendor.Received.Count);
    }

    private Task<HttpResponseMessage> Intent(string token) =>
        Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
            new StringContent("amount=500&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded")));
}

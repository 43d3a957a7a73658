using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Spend;

/// <summary>Priced calls against the daily cap through the real host (SPEC §4 step 6, §5).</summary>
public sealed class SpendTests : HostedTest
{
    [Fact]
    public async Task Race_200ConcurrentFiveDollarIntents_AgainstA100DollarCap_ExactlyTwentyReachTheVendor()
    {
        var host = Host;
        for (var round = 0; round < 20; round++) // the spend issue: it must hold 20 times in a row
        {
            Vendor.Clear();
            var (id, token) = await host.CreateKeyAsync($"race-{round}", "stripe", ["POST /v1/payment_intents"], cap: 100);
            using var start = new SemaphoreSlim(0);
            var calls = Enumerable.Range(0, 200).Select(async _ =>
            {
                await start.WaitAsync();
                using var response = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
                    new StringContent("amount=500&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded")));
                return response.StatusCode;
            }).ToList();
            start.Release(200);
            var statuses = await Task.WhenAll(calls);

            var seen = string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{(int)g.Key}×{g.Count()}"));
            Assert.True(Vendor.Received.Count == 20, $"round {round}: {Vendor.Received.Count} reached the vendor ({seen})");
            Assert.True(statuses.Count(s => s == HttpStatusCode.OK) == 20 && statuses.Count(s => s == HttpStatusCode.PaymentRequired) == 180, $"round {round}: {seen}");
            var key = await host.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");
            Assert.Equal((100m, 0m), (key.GetProperty("spent_today_usd").GetDecimal(), key.GetProperty("reserved_usd").GetDecimal()));
        }
    }

    [Fact]
    public async Task Race_WithRevocationMidBurst_NeverOvershoots_AndNothingStartedAfterTheRevokeGetsThrough()
    {
        var host = Host;
        for (var round = 0; round < 5; round++)
        {
            Vendor.Clear();
            var (id, token) = await host.CreateKeyAsync($"race-revoke-{round}", "stripe", ["POST /v1/payment_intents"], cap: 100);
            async Task<HttpStatusCode> Call()
            {
                using var response = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
                    new StringContent("amount=500&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded")));
                return response.StatusCode;
            }
            var before = Enumerable.Range(0, 100).Select(_ => Call()).ToList(); // in flight while the key is revoked
            using (var revoke = await host.Admin.DeleteAsync($"/v1/keys/{id}?reason=mid-burst"))
            {
                Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
            }
            var after = Enumerable.Range(0, 100).Select(_ => Call()).ToList();
            var statuses = await Task.WhenAll(before.Concat(after));

            var forwarded = Vendor.Received.Count;
            Assert.InRange(forwarded, 0, 20);
            Assert.Equal(forwarded, statuses.Count(s => s == HttpStatusCode.OK));
            Assert.All(statuses.Skip(100), s => Assert.Equal(HttpStatusCode.Unauthorized, s)); // started after the revoke returned
            Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.OK, HttpStatusCode.PaymentRequired, HttpStatusCode.Unauthorized }));
            var key = await host.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");
            Assert.Equal(5m * forwarded, key.GetProperty("spent_today_usd").GetDecimal());
        }
    }

    [Fact]
    public async Task SilentVendor_Is504_AndTheReservationCountsAsInDoubt()
    {
        await using var host = await KeyBrakeHost.StartAsync(Vendor, new() { ["KeyBrake:Proxy:UpstreamTimeout"] = "1s" });
        var (id, token) = await host.CreateKeyAsync("hang-run", "stripe", ["POST /v1/payment_intents"]);
        Vendor.Delay = TimeSpan.FromSeconds(10);

        using var response = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
            new StringContent("amount=700&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded")));
        await host.AuditFlushedAsync();

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var key = await host.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");
        Assert.Equal((7m, 0m), (key.GetProperty("spent_today_usd").GetDecimal(), key.GetProperty("reserved_usd").GetDecimal()));
        var settled = (await host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={id}&type=proxy.response")).GetProperty("entries")[0];
        Assert.Equal(("in_doubt", 7_000_000L), (settled.GetProperty("outcome").GetString(), settled.GetProperty("cost_usd_micros").GetInt64()));
    }

    [Fact]
    public async Task OverTheCap_Is402_WithTheFigures_NotRetryable()
    {
        var (_, token) = await Host.CreateKeyAsync("cap-run", "stripe", ["POST /v1/payment_intents"], cap: 7.5m);
        using var first = await Intent(token, 500);

        using var refused = await Intent(token, 300);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("2.5", first.Headers.GetValues("X-KeyBrake-Remaining-Usd").Single());
        Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
        var error = await ErrorJson.ReadAsync(refused);
        Assert.Equal(("daily_cap_exceeded", false), (error.GetProperty("code").GetString(), error.GetProperty("retryable").GetBoolean()));
        Assert.Equal((7.5m, 5m, 0m, 3m), (error.GetProperty("cap_usd").GetDecimal(), error.GetProperty("spent_usd").GetDecimal(),
            error.GetProperty("reserved_usd").GetDecimal(), error.GetProperty("requested_usd").GetDecimal()));
        Assert.Single(Vendor.Received);
    }

    [Theory]
    [InlineData("amount=-5&currency=usd")]
    [InlineData("amount=5.5&currency=usd")]
    [InlineData("amount=500&currency=zzz")]
    [InlineData("currency=usd")]
    [InlineData("amount=500&amount=1&currency=usd")]
    public async Task Unpriceable_Is422_AndNeverReachesTheVendor(string body)
    {
        var (_, token) = await Host.CreateKeyAsync("unpriced-run", "stripe", ["POST /v1/payment_intents"]);

        using var response = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
            new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded")));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("unpriceable_request", (await ErrorJson.ReadAsync(response)).GetProperty("code").GetString());
        Assert.Empty(Vendor.Received);
        await Host.AuditFlushedAsync();
        var denied = await Host.Admin.GetFromJsonAsync<JsonElement>("/v1/audit?type=proxy.denied&label=unpriced-run");
        Assert.Equal("deny:unpriceable_request", denied.GetProperty("entries")[0].GetProperty("decision").GetString());
    }

    [Theory]
    [InlineData(200, null, 5)]       // executed: counts
    [InlineData(402, null, 0)]       // the vendor refused (a card declined): released
    [InlineData(500, null, 5)]       // in doubt: counts
    [InlineData(200, "true", 0)]     // Stripe replayed an earlier request: nothing new moved
    public async Task Settlement_FollowsTheVendorsAnswer(int status, string? replayed, decimal spent)
    {
        var (id, token) = await Host.CreateKeyAsync($"settle-{status}-{replayed}", "stripe", ["POST /v1/payment_intents"]);
        Vendor.Respond = _ => (status, """{"id":"pi_1"}""", replayed is null ? null : new() { ["Idempotent-Replayed"] = replayed });

        using var response = await Intent(token, 500);
        await Host.AuditFlushedAsync();

        Assert.Equal(status, (int)response.StatusCode);
        var key = await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");
        Assert.Equal((spent, 0m), (key.GetProperty("spent_today_usd").GetDecimal(), key.GetProperty("reserved_usd").GetDecimal()));
        var settled = (await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={id}&type=proxy.response")).GetProperty("entries")[0];
        Assert.Equal((long)(spent * 1_000_000), settled.GetProperty("cost_usd_micros").GetInt64());
    }

    [Theory]
    [InlineData("\"-0.00790\"", 7_900)]   // Twilio states the price: it settles at that
    [InlineData("null", 8_300)]            // not known yet: the estimate (one segment) stands
    public async Task Twilio_SettlesFromTheStatedPrice(string price, long micros)
    {
        var (id, token) = await Host.CreateKeyAsync($"twilio-price-{micros}", "twilio", ["POST /2010-04-01/Accounts/*/Messages.json"]);
        Vendor.Respond = _ => (201, $$"""{"sid":"SM1","status":"queued","price":{{price}},"price_unit":"USD"}""", new() { ["Twilio-Request-Id"] = "RQ1" });

        using var response = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, $"/twilio/2010-04-01/Accounts/{KeyBrakeHost.TwilioAccountSid}/Messages.json", token,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["To"] = "+15555550100", ["Body"] = "Your code is 123456" })));
        await Host.AuditFlushedAsync();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Contains("\"price\":" + price, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal); // the body reached the agent untouched
        var settled = (await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={id}&type=proxy.response")).GetProperty("entries")[0];
        Assert.Equal((micros, "RQ1"), (settled.GetProperty("cost_usd_micros").GetInt64(), settled.GetProperty("vendor_request_id").GetString()));
        var key = await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");
        Assert.Equal(micros / 1_000_000m, key.GetProperty("spent_today_usd").GetDecimal());
    }

    [Fact]
    public async Task Confirm_AmountLookedUpWithTheVendorSecret_ThenReserved()
    {
        var (id, token) = await Host.CreateKeyAsync("confirm-run", "stripe", ["POST /v1/payment_intents/*"], cap: 100);

        using var response = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents/pi_123/confirm", token,
            new StringContent("", Encoding.UTF8, "application/x-www-form-urlencoded")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("95", response.Headers.GetValues("X-KeyBrake-Remaining-Usd").Single()); // the fake intent is 500 usd cents
        var lookup = Vendor.Received[0];
        Assert.Equal(("GET", "/v1/payment_intents/pi_123", "Bearer " + KeyBrakeHost.StripeSecret), (lookup.Method, lookup.Path, lookup.Headers["Authorization"]));
        Assert.False(lookup.Headers.ContainsKey("Stripe-Account")); // the platform's own object: no connected account named
        Assert.Equal(("POST", "/v1/payment_intents/pi_123/confirm"), (Vendor.Received[1].Method, Vendor.Received[1].Path));
        var request = (await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={id}&type=proxy.request")).GetProperty("entries")[0];
        Assert.Equal(5_000_000, request.GetProperty("cost_usd_micros").GetInt64());
        var details = request.GetProperty("details");
        Assert.Equal(("GET /v1/payment_intents/pi_123", 500L, "usd"),
            (details.GetProperty("priced_from").GetString(), details.GetProperty("amount_minor").GetInt64(), details.GetProperty("currency").GetString()));
    }

    [Fact]
    public async Task RaisingTheCap_AppliesToTheNextCall_AndIsAKeyUpdatedEntry()
    {
        var (id, token) = await Host.CreateKeyAsync("governed-run", "stripe", ["POST /v1/payment_intents"], cap: 5);
        using var first = await Intent(token, 500);
        using var refused = await Intent(token, 500);

        using var patch = await Host.Admin.PatchAsJsonAsync($"/v1/keys/{id}", new { daily_usd_cap = 10, justification = "batch grew", ticket = "OPS-9" });
        using var allowed = await Intent(token, 500);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.PaymentRequired, HttpStatusCode.OK, HttpStatusCode.OK),
            (first.StatusCode, refused.StatusCode, patch.StatusCode, allowed.StatusCode));
        await Host.AuditFlushedAsync();
        var entries = (await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={id}")).GetProperty("entries").EnumerateArray().ToList();
        var updated = entries.Single(e => e.GetProperty("type").GetString() == "key.updated");
        Assert.Equal((5_000_000L, 10_000_000L, "batch grew", "OPS-9"), (
            updated.GetProperty("details").GetProperty("before").GetProperty("daily_usd_cap_micros").GetInt64(),
            updated.GetProperty("details").GetProperty("after").GetProperty("daily_usd_cap_micros").GetInt64(),
            updated.GetProperty("details").GetProperty("justification").GetString(),
            updated.GetProperty("details").GetProperty("ticket").GetString()));
        // Every entry carries the policy hash in force at the time: the old one before the change, the new one after.
        var last = entries.Last(e => e.GetProperty("type").GetString() == "proxy.response");
        Assert.Equal(updated.GetProperty("policy_hash").GetString(), last.GetProperty("policy_hash").GetString());
        Assert.NotEqual(updated.GetProperty("policy_hash").GetString(), entries.First(e => e.GetProperty("type").GetString() == "proxy.request").GetProperty("policy_hash").GetString());
    }

    [Fact]
    public async Task SpendSurvivesARestart_FromTheAuditLog()
    {
        var vendor = Vendor;
        var data = Directory.CreateTempSubdirectory("keybrake-spend-").FullName;
        string id;
        await using (var first = await KeyBrakeHost.StartAsync(vendor, dataDirectory: data, keepData: true))
        {
            (id, var token) = await first.CreateKeyAsync("restart-run", "stripe", ["POST /v1/payment_intents"]);
            using var a = await first.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
                new StringContent("amount=1234&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded")));
            Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        }

        await using var second = await KeyBrakeHost.StartAsync(vendor, dataDirectory: data);
        var key = await second.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");

        Assert.Equal(12.34m, key.GetProperty("spent_today_usd").GetDecimal());
    }


    private Task<HttpResponseMessage> Intent(string token, int amountCents) =>
        Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
            new StringContent($"amount={amountCents}&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded")));
}

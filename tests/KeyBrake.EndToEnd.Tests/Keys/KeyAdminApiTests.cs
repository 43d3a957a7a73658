using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.EndToEnd.Tests.Keys;

public sealed class KeyAdminApiTests() : HostedTest(new FakeTimeProvider(Start))
{
    private static readonly DateTimeOffset Start = new(2026, 6, 3, 9, 30, 0, 123, TimeSpan.Zero);

    [Fact]
    public async Task Create_Returns201WithEveryFieldAndTheTokenOnce()
    {
        using var response = await Host.Admin.PostAsJsonAsync("/v1/keys", new
        {
            label = "billing-agent-run-2026-06-03-batch-447",
            vendor = "stripe",
            allowed_endpoints = new[] { "POST /v1/payment_intents", "/v1/payment_intents/*", "GET /v1/customers/*" },
            daily_usd_cap = 5000.25m,
            expires_in = "4h",
            metadata = new { agent_id = "billing-agent", run_id = "447" },
            justification = "nightly billing run",
            ticket = "OPS-123",
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var created = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var key = created.RootElement;

        var id = key.GetProperty("id").GetString()!;
        Assert.Matches("^key_[0-9A-HJKMNP-TV-Z]{26}$", id);
        Assert.Matches("^vk_[A-Za-z0-9_-]{43}$", key.GetProperty("token").GetString()!);
        Assert.Equal("billing-agent-run-2026-06-03-batch-447", key.GetProperty("label").GetString());
        Assert.Equal(5000.25m, key.GetProperty("daily_usd_cap").GetDecimal());
        Assert.Equal("2026-06-03T13:30:00.123Z", key.GetProperty("expires_at").GetString());
        Assert.Equal("2026-06-03T09:30:00.123Z", key.GetProperty("created_at").GetString());
        Assert.Equal("principal:bootstrap", key.GetProperty("created_by").GetString());
        Assert.Equal("447", key.GetProperty("metadata").GetProperty("run_id").GetString());
        Assert.Empty(key.GetProperty("stripe_accounts").EnumerateArray());
        Assert.Equal("active", key.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, key.GetProperty("revoked_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, key.GetProperty("revoked_by").ValueKind);
        Assert.Equal(JsonValueKind.Null, key.GetProperty("revoke_reason").ValueKind);
        Assert.Equal(0, key.GetProperty("spent_today_usd").GetDecimal());
        Assert.Equal(0, key.GetProperty("reserved_usd").GetDecimal());

        // policy_hash recomputed independently: the JCS text written out by hand (keys sorted, no whitespace).
        // SPEC v2 §3's members; the guardrails null until keys carry them, stripe_accounts [] when none.
        const string canonical =
            """{"allowed_endpoints":["POST /v1/payment_intents","/v1/payment_intents/*","GET /v1/customers/*"],"approval_above_usd_micros":null,"daily_usd_cap_micros":5000250000,"expires_at":"2026-06-03T13:30:00.123Z","max_usd_per_call_micros":null,"on_anomaly":null,"requests_per_minute":null,"stripe_accounts":[],"vendor":"stripe"}""";
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))), key.GetProperty("policy_hash").GetString());

        using var fetched = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/keys/{id}"));
        Assert.False(fetched.RootElement.TryGetProperty("token", out _));
        Assert.Equal(key.GetProperty("policy_hash").GetString(), fetched.RootElement.GetProperty("policy_hash").GetString());
    }

    [Fact]
    public async Task Create_WithManyBadFields_Is400NamingEveryOne()
    {
        using var response = await Host.Admin.PostAsJsonAsync("/v1/keys", new
        {
            label = "has spaces!",
            vendor = "paypal",
            allowed_endpoints = new[] { "GET v1/no-leading-slash", "FETCH /v1/x", "/v1/../x" },
            daily_usd_cap = 1.1234567m,
            expires_in = "8d",
            metadata = new { nested = new { x = 1 } },
            colour = "blue",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorJson.ReadAsync(response);
        Assert.Equal("invalid_request", error.GetProperty("code").GetString());
        var fields = error.GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("field").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?>
        {
            "label", "vendor", "allowed_endpoints[0]", "allowed_endpoints[1]", "allowed_endpoints[2]",
            "daily_usd_cap", "expires_in", "metadata.nested", "colour",
        }, fields);
        Assert.Empty((await ListAsync("")).EnumerateArray());
    }

    [Theory]
    [InlineData("""{"vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":5}""", "label")]
    [InlineData("""{"label":"a","vendor":"stripe","allowed_endpoints":["GET /v1/x"]}""", "daily_usd_cap")]
    [InlineData("""{"label":"a","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":-1}""", "daily_usd_cap")]
    [InlineData("""{"label":"a","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":"5"}""", "daily_usd_cap")]
    [InlineData("""{"label":"a","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":1e30}""", "daily_usd_cap")]
    [InlineData("""{"label":"a","vendor":"stripe","allowed_endpoints":[],"daily_usd_cap":5}""", "allowed_endpoints")]
    [InlineData("""{"label":"a","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":5,"expires_in":"0s"}""", "expires_in")]
    [InlineData("""{"label":"a","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":5,"expires_in":"4 hours"}""", "expires_in")]
    [InlineData("""{"label":"","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":5}""", "label")]
    [InlineData("""[1,2]""", "body")]
    [InlineData("""{not json""", "body")]
    public async Task Create_BadInput_Is400NamingTheField(string body, string field)
    {
        using var response = await Host.Admin.PostAsync("/v1/keys", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorJson.ReadAsync(response);
        Assert.Equal("invalid_request", error.GetProperty("code").GetString());
        Assert.Contains(error.GetProperty("fields").EnumerateArray(), f => f.GetProperty("field").GetString() == field);
    }

    [Fact]
    public async Task List_FiltersByStatusVendorAndLabelPrefix()
    {
        var (a, _) = await Host.CreateKeyAsync("run-447-a", "stripe", ["GET /v1/customers/*"]);
        var (b, _) = await Host.CreateKeyAsync("run-447-b", "resend", ["POST /emails"]);
        var (c, _) = await Host.CreateKeyAsync("run-448-a", "stripe", ["GET /v1/customers/*"], ttl: "90s");
        (await Host.Admin.DeleteAsync($"/v1/keys/{b}")).EnsureSuccessStatusCode();
        Time!.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(Sorted(a, b), Ids(await ListAsync("?label_prefix=run-447")));
        Assert.Equal(Sorted(a, c), Ids(await ListAsync("?vendor=stripe")));
        Assert.Equal(Sorted(a), Ids(await ListAsync("?status=active")));
        Assert.Equal(Sorted(b), Ids(await ListAsync("?status=revoked")));
        Assert.Equal(Sorted(c), Ids(await ListAsync("?status=expired")));
        Assert.Equal(Array.Empty<string>(), Ids(await ListAsync("?label_prefix=RUN")));
        using var bad = await Host.Admin.GetAsync("/v1/keys?status=dead");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Patch_ChangesPolicy_RequiresJustification_AndAppliesToTheNextRequest()
    {
        var (id, token) = await Host.CreateKeyAsync("run-patch", "stripe", ["GET /v1/customers/*"], cap: 10);
        using var before = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/keys/{id}"));
        using var allowedBefore = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
        Assert.Equal(HttpStatusCode.OK, allowedBefore.StatusCode);

        using var unjustified = await Host.Admin.PatchAsJsonAsync($"/v1/keys/{id}", new { daily_usd_cap = 20 });
        Assert.Equal(HttpStatusCode.BadRequest, unjustified.StatusCode);
        Assert.Contains((await ErrorJson.ReadAsync(unjustified)).GetProperty("fields").EnumerateArray(), f => f.GetProperty("field").GetString() == "justification");

        using var tooLate = await Host.Admin.PatchAsJsonAsync($"/v1/keys/{id}", new { expires_at = "2026-06-11T00:00:00Z", justification = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, tooLate.StatusCode);

        using var patched = await Host.Admin.PatchAsJsonAsync($"/v1/keys/{id}", new
        {
            allowed_endpoints = new[] { "GET /v1/charges" },
            daily_usd_cap = 20,
            expires_at = "2026-06-04T09:30:00Z",
            justification = "widen for incident",
            ticket = "OPS-9",
        });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        using var after = JsonDocument.Parse(await patched.Content.ReadAsStringAsync());
        Assert.Equal(20, after.RootElement.GetProperty("daily_usd_cap").GetDecimal());
        Assert.Equal("2026-06-04T09:30:00.000Z", after.RootElement.GetProperty("expires_at").GetString());
        Assert.NotEqual(before.RootElement.GetProperty("policy_hash").GetString(), after.RootElement.GetProperty("policy_hash").GetString());

        using var nowDenied = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
        using var nowAllowed = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/charges", token));
        Assert.Equal(HttpStatusCode.Forbidden, nowDenied.StatusCode);
        Assert.Equal(HttpStatusCode.OK, nowAllowed.StatusCode);
    }

    [Fact]
    public async Task Revoke_IsIdempotent_AndRecordsWhoWhyWhen()
    {
        var (id, _) = await Host.CreateKeyAsync("run-revoke", "stripe", ["GET /v1/customers/*"]);

        using var first = await Host.Admin.DeleteAsync($"/v1/keys/{id}?reason=looping");
        Time!.Advance(TimeSpan.FromSeconds(5));
        using var second = await Host.Admin.DeleteAsync($"/v1/keys/{id}?reason=again");
        using var missing = await Host.Admin.DeleteAsync("/v1/keys/key_nope?reason=x");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var firstBody = await first.Content.ReadAsStringAsync();
        Assert.Equal(firstBody, await second.Content.ReadAsStringAsync());
        using var json = JsonDocument.Parse(firstBody);
        Assert.Equal("revoked", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("looping", json.RootElement.GetProperty("revoke_reason").GetString());
        Assert.Equal("principal:bootstrap", json.RootElement.GetProperty("revoked_by").GetString());
        Assert.Equal("2026-06-03T09:30:00.123Z", json.RootElement.GetProperty("revoked_at").GetString());

        using var patchRevoked = await Host.Admin.PatchAsJsonAsync($"/v1/keys/{id}", new { daily_usd_cap = 1, justification = "x" });
        Assert.Equal(HttpStatusCode.Conflict, patchRevoked.StatusCode);
    }

    [Fact]
    public async Task BulkRevoke_ByLabelPrefix_RevokesOnlyThatRun()
    {
        var (a1, t1) = await Host.CreateKeyAsync("billing-run-2026-06-03-a", "stripe", ["GET /v1/customers/*"]);
        var (a2, _) = await Host.CreateKeyAsync("billing-run-2026-06-03-b", "resend", ["POST /emails"]);
        var (other, t3) = await Host.CreateKeyAsync("billing-run-2026-06-04-a", "stripe", ["GET /v1/customers/*"]);

        using var response = await Host.Admin.PostAsJsonAsync("/v1/keys/revoke", new { label_prefix = "billing-run-2026-06-03", reason = "kill switch" });
        using var again = await Host.Admin.PostAsJsonAsync("/v1/keys/revoke", new { label_prefix = "billing-run-2026-06-03", reason = "kill switch" });
        using var empty = await Host.Admin.PostAsJsonAsync("/v1/keys/revoke", new { label_prefix = "" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(Sorted(a1, a2), json.RootElement.GetProperty("revoked").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal).ToArray());
        using var againJson = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
        Assert.Empty(againJson.RootElement.GetProperty("revoked").EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);

        using var revokedCall = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", t1));
        using var otherCall = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", t3));
        Assert.Equal("key_revoked", (await ErrorJson.ReadAsync(revokedCall)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, otherCall.StatusCode);
        Assert.Equal(Sorted(other), Ids(await ListAsync("?status=active")));
    }

    [Fact]
    public async Task Store_HoldsOnlyTokenHashes_NeverTokensOrSecrets()
    {
        var (_, token) = await Host.CreateKeyAsync("run-hash", "stripe", ["GET /v1/customers/*"]);
        using var call = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
        Assert.Equal(HttpStatusCode.OK, call.StatusCode);

        var tokenHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        var bytes = Directory.GetFiles(Path.Combine(Host.DataDirectory, "data"))
            .Select(f => Encoding.UTF8.GetString(File.ReadAllBytes(f))).Aggregate("", string.Concat);
        Assert.DoesNotContain(token, bytes, StringComparison.Ordinal);
        Assert.DoesNotContain(token[3..], bytes, StringComparison.Ordinal);
        Assert.DoesNotContain(KeyBrakeHost.AdminToken, bytes, StringComparison.Ordinal);
        Assert.DoesNotContain(KeyBrakeHost.StripeSecret, bytes, StringComparison.Ordinal);
        Assert.Contains(tokenHash, bytes, StringComparison.Ordinal);
    }

    private async Task<JsonElement> ListAsync(string query)
    {
        using var json = JsonDocument.Parse(await Host.Admin.GetStringAsync("/v1/keys" + query));
        return json.RootElement.GetProperty("keys").Clone();
    }

    private static string[] Sorted(params string[] ids) => [.. ids.Order(StringComparer.Ordinal)];

    private static string[] Ids(JsonElement keys) => [.. keys.EnumerateArray().Select(k => k.GetProperty("id").GetString()!).Order(StringComparer.Ordinal)];
}

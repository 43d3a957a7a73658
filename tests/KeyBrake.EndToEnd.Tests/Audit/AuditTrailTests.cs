using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using KeyBrake.EndToEnd.Tests.Support;
using Stripe;

namespace KeyBrake.EndToEnd.Tests.Audit;

/// <summary>
/// Allowed and denied calls from the vendors' real clients, then the NDJSON export checked by an implementation
/// written in this test from SPEC §7 alone: every hash recomputed, every link and checkpoint signature checked.
/// </summary>
public sealed class AuditTrailTests : HostedTest
{
    [Fact]
    public async Task RealClients_AllowedAndDenied_ExportVerifiesIndependently_WithEveryEntryWeExpect()
    {
        var (stripeKey, stripeToken) = await Host.CreateKeyAsync("audit-run-1-stripe", "stripe", ["POST /v1/payment_intents"]);
        var (twilioKey, twilioToken) = await Host.CreateKeyAsync("audit-run-1-twilio", "twilio", ["POST /2010-04-01/Accounts/*/Messages.json"]);
        var (resendKey, resendToken) = await Host.CreateKeyAsync("audit-run-1-resend", "resend", ["POST /emails"]);
        var stripe = new StripeClient(new StripeClientOptions
        {
            ApiKey = stripeToken,
            ApiBase = Host.Proxy.BaseAddress!.ToString().TrimEnd('/') + "/stripe",
            HttpClient = new SystemNetHttpClient(new HttpClient(), 0),
        });

        await new PaymentIntentService(stripe).CreateAsync(new PaymentIntentCreateOptions { Amount = 500, Currency = "usd" });
        await Assert.ThrowsAsync<StripeException>(() => new ChargeService(stripe).ListAsync());
        var twilio = await NodeClient.RunAsync("twilio-client.mjs", new()
        {
            ["KEYBRAKE_TOKEN"] = twilioToken,
            ["KEYBRAKE_BASE_URL"] = Host.Proxy.BaseAddress!.ToString().TrimEnd('/'),
            ["TWILIO_ACCOUNT_SID"] = KeyBrakeHost.TwilioAccountSid,
        });
        var resend = await NodeClient.RunAsync("resend-client.mjs", new()
        {
            ["KEYBRAKE_TOKEN"] = resendToken,
            ["RESEND_BASE_URL"] = Host.Proxy.BaseAddress!.ToString().TrimEnd('/') + "/resend",
        });
        Assert.True(twilio.GetProperty("ok").GetBoolean() && resend.GetProperty("ok").GetBoolean());

        await Host.AuditFlushedAsync();
        var export = await Host.Admin.GetStringAsync("/v1/audit/export?format=ndjson");
        var entries = IndependentAudit.VerifyExport(export);

        var stripeVendorId = Vendor.Received.Single(r => r.Path == "/v1/payment_intents");
        Assert.Equal(["principal.created", "key.created", "key.created", "key.created"], entries.Take(4).Select(e => (string)e["type"]!));
        var created = entries[1];
        Assert.Equal(("principal:bootstrap", stripeKey), ((string)created["actor"]!, (string)created["key_id"]!));
        Assert.Equal(["POST /v1/payment_intents"], created["details"]!["after"]!["allowed_endpoints"]!.AsArray().Select(x => (string)x!));

        var stripeCalls = entries.Where(e => (string?)e["key_id"] == stripeKey && ((string)e["type"]!).StartsWith("proxy.", StringComparison.Ordinal)).ToList();
        Assert.Equal(["proxy.request", "proxy.response", "proxy.denied"], stripeCalls.Select(e => (string)e["type"]!));
        Assert.Equal([1L, 2, 3], stripeCalls.Select(e => (long)e["run_seq"]!));
        var (request, response, denied) = (stripeCalls[0], stripeCalls[1], stripeCalls[2]);
        Assert.Equal((string)request["request_id"]!, (string)response["request_id"]!);
        Assert.Equal(("allow:POST /v1/payment_intents", "POST", "/v1/payment_intents", $"key:{stripeKey}"),
            ((string)request["decision"]!, (string)request["method"]!, (string)request["path"]!, (string)request["actor"]!));
        Assert.Equal((500L, "usd"), ((long)request["details"]!["amount_minor"]!, (string)request["details"]!["currency"]!));
        Assert.Equal(("executed", 200L), ((string)response["outcome"]!, (long)response["http_status"]!));
        Assert.StartsWith("req_vendor_", (string)response["vendor_request_id"]!);
        Assert.Equal(("deny:endpoint_not_allowed", "denied", 403L, "/v1/charges"),
            ((string)denied["decision"]!, (string)denied["outcome"]!, (long)denied["http_status"]!, (string)denied["path"]!));
        Assert.All(stripeCalls, e => Assert.Equal(created["policy_hash"]!.ToString(), e["policy_hash"]!.ToString()));

        var twilioRequest = entries.Single(e => (string?)e["key_id"] == twilioKey && (string)e["type"]! == "proxy.request");
        Assert.Equal(["+1******0100"], twilioRequest["details"]!["recipients"]!.AsArray().Select(x => (string)x!));
        var twilioResponse = entries.Single(e => (string?)e["key_id"] == twilioKey && (string)e["type"]! == "proxy.response");
        Assert.StartsWith("RQ", (string)twilioResponse["vendor_request_id"]!);
        var resendRequest = entries.Single(e => (string?)e["key_id"] == resendKey && (string)e["type"]! == "proxy.request");
        Assert.Equal(["j***@example.com"], resendRequest["details"]!["recipients"]!.AsArray().Select(x => (string)x!));
        var resendResponse = entries.Single(e => (string?)e["key_id"] == resendKey && (string)e["type"]! == "proxy.response");
        Assert.Equal(resend.GetProperty("id").GetString(), (string)resendResponse["vendor_request_id"]!);

        // Request bodies, tokens and secrets are never stored.
        foreach (var secret in new[] { stripeToken, twilioToken, resendToken, KeyBrakeHost.StripeSecret, KeyBrakeHost.TwilioSecret, KeyBrakeHost.ResendSecret, "jane@example.com", "Your code is" })
        {
            Assert.DoesNotContain(secret, export, StringComparison.Ordinal);
        }
        Assert.NotNull(stripeVendorId);
    }

    [Fact]
    public async Task Verify_Checkpoints_AndPublicKey_AgreeWithTheExport()
    {
        await using var host = await KeyBrakeHost.StartAsync(Vendor, new() { ["KeyBrake:Audit:CheckpointEvery"] = "5" });
        var (_, token) = await host.CreateKeyAsync("cp-run", "stripe", ["GET /v1/customers/*"]);
        for (var i = 0; i < 8; i++)
        {
            using var _ = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, $"/stripe/v1/customers/cus_{i}", token));
        }

        await host.AuditFlushedAsync();
        var verify = await host.Admin.GetFromJsonAsync<JsonElement>("/v1/audit/verify");
        var entries = IndependentAudit.VerifyExport(await host.Admin.GetStringAsync("/v1/audit/export"));
        var checkpoints = JsonNode.Parse(await host.Admin.GetStringAsync("/v1/audit/checkpoints"))!["checkpoints"]!.AsArray();
        var publicKey = await host.Admin.GetStringAsync("/v1/audit/public-key");

        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
        Assert.Equal(entries.Count, verify.GetProperty("entries").GetInt64());
        Assert.Equal((string)entries[^1]["hash"]!, verify.GetProperty("head").GetProperty("hash").GetString());
        Assert.Equal(JsonValueKind.Null, verify.GetProperty("first_bad_seq").ValueKind);
        Assert.True(checkpoints.Count >= 3); // 2 + 8×2 entries, every 5
        foreach (var checkpoint in checkpoints)
        {
            IndependentAudit.VerifyCheckpoint(checkpoint!, publicKey, entries);
        }
        var file = System.IO.File.ReadAllLines(Path.Combine(host.DataDirectory, "data", "checkpoints.ndjson"));
        Assert.Equal(checkpoints.Select(c => (long)c!["seq"]!), file.Select(l => (long)JsonNode.Parse(l)!["seq"]!));
    }

    [Fact]
    public async Task Reason_IsStored_AndOneOver500CharactersIsRefused()
    {
        var (_, token) = await Host.CreateKeyAsync("reason-run", "stripe", ["GET /v1/customers/*"]);
        using var stated = KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token);
        stated.Headers.Add("X-KeyBrake-Reason", "look up the customer for invoice 88");
        using var tooLong = KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token);
        tooLong.Headers.Add("X-KeyBrake-Reason", new string('r', 501));

        using var ok = await Host.Proxy.SendAsync(stated);
        using var refused = await Host.Proxy.SendAsync(tooLong);

        await Host.AuditFlushedAsync();
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("invalid_request", (await ErrorJson.ReadAsync(refused)).GetProperty("code").GetString());
        Assert.Single(Vendor.Received);
        Assert.False(Vendor.Received[0].Headers.ContainsKey("X-KeyBrake-Reason"));
        var page = JsonNode.Parse(await Host.Admin.GetStringAsync("/v1/audit?label=reason-run"))!["entries"]!.AsArray();
        Assert.Equal(["look up the customer for invoice 88", "look up the customer for invoice 88"],
            page.Where(e => (string)e!["type"]! != "proxy.denied" && (string)e!["type"]! != "key.created").Select(e => (string)e!["reason"]!));
        Assert.Equal("deny:invalid_request", (string)page.Single(e => (string)e!["type"]! == "proxy.denied")!["decision"]!);
    }

    [Fact]
    public async Task Query_FiltersAndPages_AndRefusesBadParameters()
    {
        var (keyA, tokenA) = await Host.CreateKeyAsync("query-a", "stripe", ["GET /v1/customers/*"]);
        var (_, tokenB) = await Host.CreateKeyAsync("query-b", "stripe", ["GET /v1/customers/*"]);
        for (var i = 0; i < 3; i++)
        {
            using var a = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, $"/stripe/v1/customers/cus_{i}", tokenA));
        }
        using var b = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/charges", tokenB));
        await Host.AuditFlushedAsync();

        async Task<JsonNode> Get(string query) => JsonNode.Parse(await Host.Admin.GetStringAsync("/v1/audit?" + query))!;
        var first = await Get($"key_id={keyA}&type=proxy.response&limit=2");
        var next = await Get($"key_id={keyA}&type=proxy.response&limit=2&after_seq={first["next_after_seq"]}");
        var denied = await Get("outcome=denied&http_status=403");
        var byPrefix = await Get("label_prefix=query-&type=key.created");
        var none = await Get("label=query-a&min_cost_usd=0.000001");
        using var bad = await Host.Admin.GetAsync("/v1/audit?limit=0&outcome=maybe&from=yesterday&lable=x");

        Assert.Equal(2, first["entries"]!.AsArray().Count);
        Assert.Single(next["entries"]!.AsArray());
        Assert.Null(next["next_after_seq"]);
        Assert.Equal("query-b", (string)denied["entries"]!.AsArray().Single()!["label"]!);
        Assert.Equal(2, byPrefix["entries"]!.AsArray().Count);
        Assert.Empty(none["entries"]!.AsArray()); // every call here cost 0
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var fields = (await ErrorJson.ReadAsync(bad)).GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("field").GetString()).ToList();
        Assert.Equal(["from", "lable", "limit", "outcome"], fields.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task CsvExport_HasTheSpecColumns_AndOneRowPerEntry()
    {
        var (_, token) = await Host.CreateKeyAsync("csv-run", "stripe", ["GET /v1/customers/*"]);
        using var call = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
        await Host.AuditFlushedAsync();

        using var response = await Host.Admin.GetAsync("/v1/audit/export?format=csv");
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var ndjson = (await Host.Admin.GetStringAsync("/v1/audit/export?format=ndjson")).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("seq,ts,type,request_id,key_id,label,run_seq,actor,", lines[0], StringComparison.Ordinal);
        Assert.Equal(ndjson.Length, lines.Length - 1);
        Assert.Contains("\"{\"\"after\"\":", lines[2], StringComparison.Ordinal); // key.created details, quoted per RFC 4180
    }
}

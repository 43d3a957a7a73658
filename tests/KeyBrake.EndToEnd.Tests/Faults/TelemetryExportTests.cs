using System.Net;
using System.Text;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Faults;

/// <summary>
/// OpenTelemetry over OTLP/HTTP from the real KeyBrake process to a receiver inside the test that decodes the
/// protobuf: a span per proxied call with vendor, key id, label, decision and outcome; the metrics the README lists;
/// logs; and never a token or a secret in any of it.
/// </summary>
public sealed class TelemetryExportTests
{
    [Fact]
    public async Task OtlpEndpointSet_ExportsSpansMetricsAndLogs_WithoutTokensOrSecrets()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var vendor = await FakeVendor.StartAsync();
        string id, token;
        await using (var host = await KeyBrakeProcess.StartAsync(vendor, new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
            ["OTEL_SERVICE_NAME"] = "keybrake-under-test",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "100",
        }))
        {
            (id, token) = await host.CreateKeyAsync("otel-run-7", "stripe", ["POST /v1/payment_intents"], cap: 100);
            using var paid = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
                new StringContent("amount=700&currency=usd", Encoding.UTF8, "application/x-www-form-urlencoded")));
            using var refused = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/charges", token));
            using var anonymous = await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/charges", null));
            using var revoked = await host.Admin.DeleteAsync($"/v1/keys/{id}");
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Forbidden, HttpStatusCode.Unauthorized, HttpStatusCode.OK),
                (paid.StatusCode, refused.StatusCode, anonymous.StatusCode, revoked.StatusCode));
            await Task.Delay(1000); // at least one periodic metric export with everything above
            await host.SignalAsync("TERM"); // and the exporters flush on shutdown
            Assert.Equal(0, await host.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        Assert.All(receiver.Resources(), resource => Assert.Equal("keybrake-under-test", resource["service.name"]));

        // Traces: one span per proxied call, attributed to the key and its run, with the decision and the outcome.
        var spans = receiver.Spans().Where(s => s.Scope == "KeyBrake").ToList();
        Assert.True(spans.Count >= 2, $"spans: {string.Join(", ", receiver.Spans().Select(s => s.Scope + "/" + s.Name))}; received: {string.Join(", ", receiver.Received.Select(r => r.Signal))}");
        var allowed = Assert.Single(spans, s => (string?)s.Attributes.GetValueOrDefault("keybrake.outcome") == "executed");
        Assert.Equal("keybrake.proxy stripe", allowed.Name);
        Assert.Equal((id, "otel-run-7", "stripe", "allow:POST /v1/payment_intents", 200L, 7_000_000L), (
            allowed.Attributes["keybrake.key_id"], allowed.Attributes["keybrake.label"], allowed.Attributes["keybrake.vendor"],
            allowed.Attributes["keybrake.decision"], allowed.Attributes["http.response.status_code"], allowed.Attributes["keybrake.cost_usd_micros"]));
        var denied = Assert.Single(spans, s => (string?)s.Attributes.GetValueOrDefault("keybrake.decision") == "deny:endpoint_not_allowed");
        Assert.Equal(("denied", id, 403L), (denied.Attributes["keybrake.outcome"], denied.Attributes["keybrake.key_id"], denied.Attributes["http.response.status_code"]));

        // Metrics (cumulative: the latest point of a series is its total).
        Assert.Equal(1, receiver.Latest("keybrake.proxy.requests", ("vendor", "stripe"), ("decision", "allow"), ("outcome", "executed")));
        Assert.Equal(1, receiver.Latest("keybrake.proxy.denials", ("vendor", "stripe"), ("code", "endpoint_not_allowed")));
        Assert.Equal(1, receiver.Latest("keybrake.proxy.denials", ("vendor", "stripe"), ("code", "missing_key")));
        Assert.Equal(7_000_000, receiver.Latest("keybrake.spend", ("vendor", "stripe"), ("outcome", "executed")));
        Assert.Equal(0, receiver.Latest("keybrake.spend.reservations", ("vendor", "stripe"))); // taken and settled
        Assert.Equal(1, receiver.Latest("keybrake.keys.revocations"));
        Assert.True(receiver.Latest("keybrake.secrets.cache", ("result", "miss")) >= 1);
        Assert.True(receiver.Latest("keybrake.audit.commit.duration") >= 1); // a histogram: its count of commits
        Assert.True(receiver.Latest("keybrake.audit.entries") >= 4);
        Assert.NotNull(receiver.Latest("keybrake.audit.queue.depth"));

        // Logs, with their formatted messages.
        Assert.Contains(receiver.Logs(), l => l.Body.Contains($"(key {id}, stripe) denied: endpoint_not_allowed", StringComparison.Ordinal));

        // Never a token or a secret, anywhere in what was exported.
        var everything = string.Join("\n", receiver.Received.Select(r => Encoding.UTF8.GetString(r.Body)));
        foreach (var secret in new[] { token, KeyBrakeHost.StripeSecret, KeyBrakeHost.AdminToken })
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }
    }
}

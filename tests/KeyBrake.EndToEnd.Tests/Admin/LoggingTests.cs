using System.Net.Http.Headers;
using System.Text;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Admin;

public sealed class LoggingTests
{
    [Fact]
    public async Task NoLogLine_AtAnyLevel_ContainsATokenOrASecret()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var host = await KeyBrakeHost.StartAsync(vendor, new() { ["Logging:LogLevel:Default"] = "Trace" }, bootstrapToken: false);
        var adminToken = (await File.ReadAllTextAsync(Path.Combine(host.DataDirectory, "data", "admin-token"))).Trim();
        host.Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        var (id, token) = await host.CreateKeyAsync("run-logs", "stripe", ["GET /v1/customers/*"]);
        var (_, twilio) = await host.CreateKeyAsync("run-logs-twilio", "twilio", ["POST /2010-04-01/Accounts/*/Messages.json"]);

        (await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token))).EnsureSuccessStatusCode();
        await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/charges", token));
        await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", "vk_guessed_token_value"));
        using var basic = new HttpRequestMessage(HttpMethod.Post, $"/twilio/2010-04-01/Accounts/{KeyBrakeHost.TwilioAccountSid}/Messages.json")
        {
            Content = new StringContent("To=%2B15555550100&Body=hi", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        basic.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{KeyBrakeHost.TwilioAccountSid}:{twilio}")));
        (await host.Proxy.SendAsync(basic)).EnsureSuccessStatusCode();
        (await host.Admin.DeleteAsync($"/v1/keys/{id}?reason=done")).EnsureSuccessStatusCode();
        await host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));

        var logs = string.Join("\n", host.Logs.Lines);
        Assert.Contains(host.Logs.Lines, l => l.StartsWith("Debug Yarp.", StringComparison.Ordinal)); // the proxy's own debug lines were captured
        Assert.Contains("admin-token", logs, StringComparison.Ordinal); // the bootstrap log names the file…
        Assert.Contains("key_revoked", logs, StringComparison.Ordinal); // …and denials are logged
        foreach (var secret in new[]
        {
            adminToken, token, token[3..], twilio, "vk_guessed_token_value",
            KeyBrakeHost.StripeSecret, KeyBrakeHost.TwilioSecret, Convert.ToBase64String(Encoding.UTF8.GetBytes($"{KeyBrakeHost.TwilioAccountSid}:{KeyBrakeHost.TwilioSecret}")),
        })
        {
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }
    }
}

using System.Net;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Keys;

/// <summary>
/// SPEC §3: an admin body with a member name twice (at any depth) or a string that is not valid Unicode is 400
/// invalid_request naming the place, on every admin endpoint that takes a body; never last-wins, never a 500.
/// <c>{"daily_usd_cap":1,"daily_usd_cap":1000000000}</c> made a $1B key; a lone surrogate in <c>label</c> was a 500.
/// </summary>
public sealed class AdminJsonStrictnessTests : HostedTest
{
    [Theory]
    [InlineData("""{"label":"run-1","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":1,"daily_usd_cap":1000000000}""", "daily_usd_cap")]
    [InlineData("""{"label":"run-1","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":1,"label":"run-2"}""", "label")]
    [InlineData("""{"label":"run-1","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":1,"metadata":{"run_id":"447","run_id":"448"}}""", "metadata.run_id")]
    [InlineData("""{"label":"run-1","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":1,"metadata":{"a":"1","\u0061":"2"}}""", "metadata.a")] // the same name, escaped
    [InlineData("""{"label":"run-1","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":1,"stripe_accounts":[{"x":1,"x":2}]}""", "stripe_accounts[0].x")]
    [InlineData("""{"label":"run-\ud800","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":1}""", "label")]
    [InlineData("""{"label":"run-1","vendor":"stripe","allowed_endpoints":["GET /v1/\udc00"],"daily_usd_cap":1}""", "allowed_endpoints[0]")]
    [InlineData("""{"label":"run-1","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":1,"metadata":{"\ud800":"x"}}""", "metadata.(name)")]
    public async Task CreateKey_DuplicateMemberOrInvalidUnicode_Is400NamingIt_AndNoKeyExists(string body, string field)
    {
        using var response = await PostAsync("/v1/keys", body);

        await AssertRefusedAsync(response, field);
        using var keys = JsonDocument.Parse(await Host.Admin.GetStringAsync("/v1/keys"));
        Assert.Empty(keys.RootElement.GetProperty("keys").EnumerateArray());
    }

    [Fact]
    public async Task CreateKey_InvalidUtf8Bytes_Is400NotA500()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"label":"run-1","vendor":"stripe","allowed_endpoints":["GET /v1/x"],"daily_usd_cap":1,"ticket":"X"}""");
        bytes[Array.LastIndexOf(bytes, (byte)'X')] = 0xC3; // a lead byte with nothing after it

        using var response = await Host.Admin.PostAsync("/v1/keys", new ByteArrayContent(bytes) { Headers = { { "Content-Type", "application/json" } } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await ErrorJson.ReadAsync(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task PatchKey_DuplicateCap_Is400_AndThePolicyIsUnchanged()
    {
        var (id, _) = await Host.CreateKeyAsync("run-patch", "stripe", ["GET /v1/x"], cap: 5);

        using var response = await PatchAsync($"/v1/keys/{id}", """{"daily_usd_cap":1,"daily_usd_cap":1000000000,"justification":"x"}""");

        await AssertRefusedAsync(response, "daily_usd_cap");
        using var key = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/keys/{id}"));
        Assert.Equal(5, key.RootElement.GetProperty("daily_usd_cap").GetDecimal());
    }

    [Fact]
    public async Task KillSwitch_DuplicatePrefix_Is400_AndNothingIsRevoked()
    {
        var (id, _) = await Host.CreateKeyAsync("batch-a-1", "stripe", ["GET /v1/x"]);
        var (other, _) = await Host.CreateKeyAsync("batch-b-1", "stripe", ["GET /v1/x"]);

        using var response = await PostAsync("/v1/keys/revoke", """{"label_prefix":"batch-a","label_prefix":"batch","reason":"x"}""");
        using var surrogate = await PostAsync("/v1/keys/revoke", """{"label_prefix":"batch","reason":"\udfff"}""");

        await AssertRefusedAsync(response, "label_prefix");
        await AssertRefusedAsync(surrogate, "reason");
        Assert.Equal("active", await Host.KeyStatusAsync(id));
        Assert.Equal("active", await Host.KeyStatusAsync(other));
    }

    [Fact]
    public async Task CreatePrincipal_DuplicateRoles_Is400_AndNoPrincipalExists()
    {
        using var response = await PostAsync("/v1/principals", """{"name":"ops","roles":["auditor"],"roles":["admin"]}""");
        using var surrogate = await PostAsync("/v1/principals", """{"name":"ops\ud800","roles":["auditor"]}""");

        await AssertRefusedAsync(response, "roles");
        await AssertRefusedAsync(surrogate, "name");
        using var principals = JsonDocument.Parse(await Host.Admin.GetStringAsync("/v1/principals"));
        Assert.DoesNotContain(principals.RootElement.GetProperty("principals").EnumerateArray(), p => p.GetProperty("name").GetString()!.StartsWith("ops", StringComparison.Ordinal));
    }

    private Task<HttpResponseMessage> PostAsync(string path, string body) =>
        Host.Admin.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

    private Task<HttpResponseMessage> PatchAsync(string path, string body) =>
        Host.Admin.PatchAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string field)
    {
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var error = await ErrorJson.ReadAsync(response);
        Assert.Equal("invalid_request", error.GetProperty("code").GetString());
        Assert.Contains(error.GetProperty("fields").EnumerateArray(), f => f.GetProperty("field").GetString() == field);
    }
}

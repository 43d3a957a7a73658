using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Admin;

public sealed class AdminAccessTests : IAsyncLifetime
{
    private FakeVendor _vendor = null!;

    public async Task InitializeAsync() => _vendor = await FakeVendor.StartAsync();

    public async Task DisposeAsync() => await _vendor.DisposeAsync();

    [Fact]
    public async Task MissingOrWrongToken_Is401_MissingRole_Is403()
    {
        await using var host = await KeyBrakeHost.StartAsync(_vendor);
        using var anonymous = new HttpClient { BaseAddress = host.Admin.BaseAddress };
        using var wrong = new HttpClient { BaseAddress = host.Admin.BaseAddress };
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "kba_wrong");

        using var none = await anonymous.GetAsync("/v1/keys");
        using var bad = await wrong.GetAsync("/v1/keys");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("unauthorized", (await ErrorJson.ReadAsync(none)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);

        using var auditor = await CreatePrincipalClientAsync(host, "sec-team", "auditor");
        using var operatorClient = await CreatePrincipalClientAsync(host, "oncall", "operator");

        using var auditorCreate = await auditor.PostAsJsonAsync("/v1/keys", new { label = "x", vendor = "stripe", allowed_endpoints = new[] { "GET /v1/x" }, daily_usd_cap = 1 });
        using var auditorList = await auditor.GetAsync("/v1/keys");
        using var operatorPrincipals = await operatorClient.GetAsync("/v1/principals");
        using var operatorCreate = await operatorClient.PostAsJsonAsync("/v1/keys", new { label = "x", vendor = "stripe", allowed_endpoints = new[] { "GET /v1/x" }, daily_usd_cap = 1 });

        Assert.Equal(HttpStatusCode.Forbidden, auditorCreate.StatusCode);
        Assert.Equal("forbidden", (await ErrorJson.ReadAsync(auditorCreate)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, auditorList.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, operatorPrincipals.StatusCode);
        Assert.Equal(HttpStatusCode.Created, operatorCreate.StatusCode);
        using var created = JsonDocument.Parse(await operatorCreate.Content.ReadAsStringAsync());
        Assert.Equal("principal:oncall", created.RootElement.GetProperty("created_by").GetString());

        (await host.Admin.DeleteAsync("/v1/principals/oncall")).EnsureSuccessStatusCode();
        using var disabled = await operatorClient.GetAsync("/v1/keys");
        Assert.Equal(HttpStatusCode.Unauthorized, disabled.StatusCode);
    }

    [Fact]
    public async Task Principals_BadInputAndDuplicates_AreRefused()
    {
        await using var host = await KeyBrakeHost.StartAsync(_vendor);
        using var bad = await host.Admin.PostAsJsonAsync("/v1/principals", new { name = "has space", roles = new[] { "root" } });
        using var first = await host.Admin.PostAsJsonAsync("/v1/principals", new { name = "ops", roles = new[] { "operator" } });
        using var duplicate = await host.Admin.PostAsJsonAsync("/v1/principals", new { name = "ops", roles = new[] { "auditor" } });

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var fields = (await ErrorJson.ReadAsync(bad)).GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("field").GetString()).ToList();
        Assert.Contains("name", fields);
        Assert.Contains("roles", fields);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
    }

    [Fact]
    public async Task FirstStart_WithoutBootstrapToken_WritesOwnerOnlyTokenFile_ThatWorks()
    {
        await using var host = await KeyBrakeHost.StartAsync(_vendor, bootstrapToken: false);
        var path = Path.Combine(host.DataDirectory, "data", "admin-token");

        Assert.True(File.Exists(path));
        Assert.True(OperatingSystem.IsLinux(), "KeyBrake runs on Linux; this test checks the file mode there.");
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        var token = (await File.ReadAllTextAsync(path)).Trim();
        using var client = new HttpClient { BaseAddress = host.Admin.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.GetAsync("/v1/principals");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("bootstrap", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondStart_KeepsTheFirstBootstrapToken()
    {
        var directory = Directory.CreateTempSubdirectory("keybrake-restart-").FullName;
        var tokenFile = Path.Combine(directory, "data", "admin-token");
        var first = await KeyBrakeHost.StartAsync(_vendor, dataDirectory: directory, bootstrapToken: false, keepData: true);
        var token = (await File.ReadAllTextAsync(tokenFile)).Trim();
        await first.DisposeAsync();

        await using var second = await KeyBrakeHost.StartAsync(_vendor, dataDirectory: directory, bootstrapToken: false);

        Assert.Equal(token, (await File.ReadAllTextAsync(tokenFile)).Trim());
        using var client = new HttpClient { BaseAddress = second.Admin.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/principals")).StatusCode);
    }

    [Fact]
    public async Task HealthAndReadiness_AnswerOnTheAdminListener()
    {
        await using var host = await KeyBrakeHost.StartAsync(_vendor);
        using var anonymous = new HttpClient { BaseAddress = host.Admin.BaseAddress };

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/readyz")).StatusCode);
    }

    private static async Task<HttpClient> CreatePrincipalClientAsync(KeyBrakeHost host, string name, string role)
    {
        using var response = await host.Admin.PostAsJsonAsync("/v1/principals", new { name, roles = new[] { role } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var client = new HttpClient { BaseAddress = host.Admin.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", json.RootElement.GetProperty("token").GetString());
        return client;
    }
}

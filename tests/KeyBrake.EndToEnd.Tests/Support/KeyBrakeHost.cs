using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>
/// The real KeyBrake host (the same AddKeyBrake/MapKeyBrake as Program.cs) on real Kestrel listeners on loopback,
/// with its own SQLite file in a temporary directory and every vendor pointed at one <see cref="FakeVendor"/>.
/// </summary>
internal sealed class KeyBrakeHost : IAsyncDisposable
{
    public const string AdminToken = "kba_test_bootstrap_token_0123456789";
    public const string StripeSecret = "sk_test_real_stripe_secret";
    public const string TwilioSecret = "twilio_real_auth_token";
    public const string ResendSecret = "re_real_resend_key";
    public const string TwilioAccountSid = "AC00000000000000000000000000000001";

    private readonly WebApplication _app;
    private bool _keepData;

    private KeyBrakeHost(WebApplication app, string dataDirectory, int proxyPort, int adminPort, int stripePort, FakeTimeProvider? time)
    {
        _app = app;
        DataDirectory = dataDirectory;
        ProxyPort = proxyPort;
        AdminPort = adminPort;
        StripePort = stripePort;
        Time = time;
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}") };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        Proxy = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{proxyPort}") };
    }

    public string DataDirectory { get; }
    public string DatabasePath => Path.Combine(DataDirectory, "data", "keybrake.db");
    public int ProxyPort { get; }
    public int AdminPort { get; }
    public string AdminUrl => $"http://127.0.0.1:{AdminPort}";
    public string ProxyUrl => $"http://127.0.0.1:{ProxyPort}";
    /// <summary>The stripe vendor port: <c>/{path}</c> served as <c>/stripe/{path}</c>.</summary>
    public int StripePort { get; }
    public FakeTimeProvider? Time { get; }
    public HttpClient Admin { get; }
    public HttpClient Proxy { get; }
    public IServiceProvider Services => _app.Services;
    public CapturedLogs Logs { get; private init; } = null!;

    public static async Task<KeyBrakeHost> StartAsync(
        FakeVendor vendor,
        Dictionary<string, string?>? settings = null,
        FakeTimeProvider? time = null,
        Action<IServiceCollection>? services = null,
        string? dataDirectory = null,
        bool bootstrapToken = true,
        bool keepData = false,
        int? proxyPort = null,
        int? adminPort = null)
    {
        dataDirectory ??= Directory.CreateTempSubdirectory("keybrake-e2e-").FullName;
        // Fixed ports let a restarted host answer where clients (a CLI tail, an agent) already point.
        var (proxy, admin, stripePort) = (proxyPort ?? FreePort.Next(), adminPort ?? FreePort.Next(), FreePort.Next());
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = dataDirectory, EnvironmentName = "Testing" });
        var config = BaseSettings(vendor, proxy, admin);
        config["KeyBrake:DataDirectory"] = Path.Combine(dataDirectory, "data"); // the database is keybrake.db in it
        config["KeyBrake:Vendors:stripe:Port"] = stripePort.ToString();
        config["KeyBrake:Admin:BootstrapToken"] = bootstrapToken ? AdminToken : null;
        foreach (var (key, value) in settings ?? [])
        {
            config[key] = value;
        }
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.ClearProviders();
        var logs = new CapturedLogs();
        builder.Logging.AddProvider(logs);
        builder.AddKeyBrake();
        if (time is not null)
        {
            builder.Services.AddSingleton<TimeProvider>(time);
        }
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapKeyBrake();
        await app.StartAsync();
        return new KeyBrakeHost(app, dataDirectory, proxy, admin, stripePort, time) { _keepData = keepData, Logs = logs };
    }

    /// <summary>
    /// What every test host runs with, in-process or as a <see cref="KeyBrakeProcess"/>: both listeners on loopback,
    /// every vendor at the fake one, the Local secrets and the bootstrap token.
    /// </summary>
    public static Dictionary<string, string?> BaseSettings(FakeVendor vendor, int proxyPort, int adminPort) => new()
    {
        ["Kestrel:Endpoints:Proxy:Url"] = $"http://127.0.0.1:{proxyPort}",
        ["Kestrel:Endpoints:Admin:Url"] = $"http://127.0.0.1:{adminPort}",
        ["KeyBrake:Vendors:stripe:Upstream"] = vendor.BaseUrl,
        ["KeyBrake:Vendors:twilio:Upstream"] = vendor.BaseUrl,
        ["KeyBrake:Vendors:twilio:AccountSid"] = TwilioAccountSid,
        ["KeyBrake:Vendors:resend:Upstream"] = vendor.BaseUrl,
        ["KeyBrake:Secrets:Local:stripe-api-key"] = StripeSecret,
        ["KeyBrake:Secrets:Local:twilio-auth-token"] = TwilioSecret,
        ["KeyBrake:Secrets:Local:resend-api-key"] = ResendSecret,
        ["KeyBrake:Admin:BootstrapToken"] = AdminToken,
        // Tests judge behaviour, not the audit's time-out: on a loaded two-core CI machine (test assemblies run in
        // parallel) a 2 s commit can be missed and a call rightly refused with 503. Tests of that refusal set their own.
        ["KeyBrake:Audit:CommitTimeout"] = "10s",
        // Tests must not depend on the machine's free disk (CI machines have run low): 1 MiB instead of 1 GiB. Tests of
        // the rule set their own.
        ["KeyBrake:Storage:MinFreeBytes"] = "1048576",
    };

    /// <summary>
    /// Waits until every audit entry queued so far is committed: <c>proxy.response</c> and <c>proxy.denied</c> are
    /// queued without holding the agent, so a test that reads them right after a call must wait for them.
    /// </summary>
    public Task AuditFlushedAsync() =>
        Services.GetRequiredService<KeyBrake.Audit.AuditLog>().Writer.FlushAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>Issues a key through the admin API and returns (id, token).</summary>
    public Task<(string Id, string Token)> CreateKeyAsync(string label, string vendor, string[] allowed, decimal cap = 100, string ttl = "1h") =>
        CreateKeyAsync(Admin, label, vendor, allowed, cap, ttl);

    /// <summary>Issues a key through an admin client (this host's or a <see cref="KeyBrakeProcess"/>'s).</summary>
    public static async Task<(string Id, string Token)> CreateKeyAsync(HttpClient admin, string label, string vendor, string[] allowed, decimal cap, string ttl)
    {
        using var response = await admin.PostAsJsonAsync("/v1/keys", new
        {
            label,
            vendor,
            allowed_endpoints = allowed,
            daily_usd_cap = cap,
            expires_in = ttl,
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return (json.RootElement.GetProperty("id").GetString()!, json.RootElement.GetProperty("token").GetString()!);
    }

    /// <summary>A key's <c>status</c> as the admin API reports it.</summary>
    public async Task<string> KeyStatusAsync(string id)
    {
        using var key = JsonDocument.Parse(await Admin.GetStringAsync($"/v1/keys/{id}"));
        return key.RootElement.GetProperty("status").GetString()!;
    }

    public static HttpRequestMessage ProxyRequest(HttpMethod method, string path, string? token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return request;
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        Proxy.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_keepData)
        {
            return;
        }
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class ErrorJson
{
    /// <summary>Reads <c>error.code</c> of a KeyBrake error response, asserting its shape on the way.</summary>
    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        var error = document.RootElement.GetProperty("error").Clone();
        Assert.Equal("keybrake_error", error.GetProperty("type").GetString());
        Assert.StartsWith("req_", error.GetProperty("request_id").GetString());
        Assert.Equal(error.GetProperty("request_id").GetString(), response.Headers.GetValues("X-KeyBrake-Request-Id").Single());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        return error;
    }
}

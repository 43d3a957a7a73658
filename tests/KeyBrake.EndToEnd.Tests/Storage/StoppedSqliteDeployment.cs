using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Storage;

/// <summary>
/// A SQLite deployment as an operator's would be before moving up (SPEC §9): the real KeyBrake process on SQLite, keys
/// issued, calls proxied to a fake vendor (allowed and denied), one key revoked, checkpoints taken, then stopped with
/// SIGTERM. Its data directory (database, checkpoints.ndjson, the Local signing key) is what the copy reads.
/// </summary>
public sealed class StoppedSqliteDeployment : IAsyncLifetime
{
    private string? _root;

    /// <summary>The process's data directory: keybrake.db, checkpoints.ndjson and audit-signing-key.pem.</summary>
    public string DataDirectory => Path.Combine(_root!, "data");

    public string DatabasePath => Path.Combine(DataDirectory, "keybrake.db");

    public string KeptKeyId { get; private set; } = "";

    public string KeptToken { get; private set; } = "";

    public string RevokedKeyId { get; private set; } = "";

    public string RevokedToken { get; private set; } = "";

    /// <summary>What the kept key had spent today when the deployment stopped (<see cref="SpentTodayAsync"/>), more than 0.</summary>
    public decimal KeptSpentToday { get; private set; }

    /// <summary>
    /// A key's <c>spent_today_usd</c> plus its <c>reserved_usd</c> as an admin client of any deployment reports them: a
    /// call's settlement may land a moment after its answer, the sum is the same either side of it.
    /// </summary>
    public static async Task<decimal> SpentTodayAsync(HttpClient admin, string keyId)
    {
        var key = System.Text.Json.Nodes.JsonNode.Parse(await admin.GetStringAsync($"/v1/keys/{keyId}"))!;
        return key["spent_today_usd"]!.GetValue<decimal>() + key["reserved_usd"]!.GetValue<decimal>();
    }

    public async Task InitializeAsync()
    {
        _root = Directory.CreateTempSubdirectory("keybrake-copy-").FullName;
        await using var vendor = await FakeVendor.StartAsync();
        await using var child = await KeyBrakeProcess.StartAsync(vendor, new()
        {
            ["KeyBrake__Audit__CheckpointEvery"] = "5", // several checkpoints in the store and in checkpoints.ndjson
            ["Logging__LogLevel__Default"] = "Warning",
        }, _root);
        (KeptKeyId, KeptToken) = await child.CreateKeyAsync("copy-kept", "stripe", ["POST /v1/payment_intents"], cap: 1000);
        var (revoked, revokedToken) = await child.CreateKeyAsync("copy-revoked", "stripe", ["POST /v1/payment_intents"], cap: 1000);
        (RevokedKeyId, RevokedToken) = (revoked, revokedToken);
        for (var i = 1; i <= 6; i++)
        {
            await PayAsync(child, i % 2 == 0 ? KeptToken : revokedToken, i);
        }
        // Refused by the policy: a proxy.denied entry.
        using (var denied = await child.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers", KeptToken)))
        {
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, denied.StatusCode);
        }
        KeptSpentToday = await SpentTodayAsync(child.Admin, KeptKeyId);
        (await child.Admin.DeleteAsync($"/v1/keys/{revoked}")).EnsureSuccessStatusCode();
        await child.SignalAsync("TERM");
        Assert.Equal(0, await child.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(File.Exists(Path.Combine(DataDirectory, "checkpoints.ndjson")));
    }

    /// <summary>A copy of the whole data directory, to tamper with without spoiling the fixture.</summary>
    public string CopyDataDirectory()
    {
        var copy = Directory.CreateTempSubdirectory("keybrake-copy-tampered-").FullName;
        foreach (var file in Directory.EnumerateFiles(DataDirectory))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }
        return copy;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root!, recursive: true);
        return Task.CompletedTask;
    }

    private static async Task PayAsync(KeyBrakeProcess child, string token, int cents)
    {
        using var response = await child.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/payment_intents", token,
            new StringContent($"amount={cents}&currency=usd", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded")));
        response.EnsureSuccessStatusCode();
    }
}

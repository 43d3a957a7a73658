using System.Net;
using System.Net.Http.Headers;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Storage;

/// <summary>
/// SPEC §2 <c>KeyBrake:DataDirectory</c>: KeyBrake's local files live there, apart from the database if asked, and
/// everything KeyBrake creates in it is owner-only (files 0600, directories 0700), also what a v1 deployment left.
/// </summary>
public sealed class DataDirectoryTests
{
    private const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerDirectory = OwnerFile | UnixFileMode.UserExecute;

    [Fact]
    public async Task EveryFileKeyBrakeCreates_Is0600_InDirectories0700_AfterEntriesCheckpointsAndTheDashboard()
    {
        await using var vendor = await FakeVendor.StartAsync();
        var root = Directory.CreateTempSubdirectory("keybrake-modes-").FullName;
        var data = Directory.CreateDirectory(Path.Combine(root, "data")).FullName;
        var notes = Path.Combine(data, "operator-notes.txt"); // not KeyBrake's: left as it is
        await File.WriteAllTextAsync(notes, "backups go to the NAS\n");
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(notes, (UnixFileMode)0b110_100_100);
        }
        await using var host = await KeyBrakeHost.StartAsync(vendor, new() { ["KeyBrake:Audit:CheckpointEvery"] = "2" }, dataDirectory: root, bootstrapToken: false);
        host.Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(data, "admin-token"))).Trim());

        await TrafficAsync(host.Admin, host.Proxy, (label, allowed) => host.CreateKeyAsync(label, "stripe", allowed));
        (await host.Admin.GetAsync("/signin")).Dispose(); // the dashboard's antiforgery token creates its key ring
        await host.AuditFlushedAsync();
        await WaitForAsync(() => File.Exists(Path.Combine(data, "checkpoints.ndjson")));

        var files = AssertOwnerOnly(data, except: "operator-notes.txt");
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(notes));
        }
        Assert.Superset(new HashSet<string>(["admin-token", "audit-signing-key.pem", "checkpoints.ndjson", "keybrake.db", "keybrake.db-wal", "keybrake.db-shm"]), files.ToHashSet());
        Assert.Contains(files, f => f.StartsWith("dataprotection-keys/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DataDirectoryApartFromTheDatabase_HoldsTheLocalFiles_TheDatabaseHoldsOnlyItself()
    {
        await using var vendor = await FakeVendor.StartAsync();
        var root = Directory.CreateTempSubdirectory("keybrake-dd-").FullName;
        await using var host = await KeyBrakeHost.StartAsync(vendor, new()
        {
            ["KeyBrake:DataDirectory"] = "files", // relative: to the content root
            ["KeyBrake:Storage:Sqlite:Path"] = "db/audit.db",
            ["KeyBrake:Audit:CheckpointEvery"] = "2",
        }, dataDirectory: root, bootstrapToken: false);
        host.Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(Path.Combine(root, "files", "admin-token"))).Trim());

        await TrafficAsync(host.Admin, host.Proxy, (label, allowed) => host.CreateKeyAsync(label, "stripe", allowed));
        await host.AuditFlushedAsync();
        await WaitForAsync(() => File.Exists(Path.Combine(root, "files", "checkpoints.ndjson")));

        Assert.Equal(["db/audit.db", "db/audit.db-shm", "db/audit.db-wal"], AssertOwnerOnly(Path.Combine(root, "db")).Select(f => "db/" + f).Order(StringComparer.Ordinal));
        Assert.Superset(new HashSet<string>(["admin-token", "audit-signing-key.pem", "checkpoints.ndjson"]), AssertOwnerOnly(Path.Combine(root, "files")).ToHashSet());
        Assert.False(Directory.Exists(Path.Combine(root, "data")));
    }

    /// <summary>
    /// A v1 deployment names only its database (the Dockerfile set <c>Storage:Sqlite:Path=/data/keybrake.db</c>) and kept
    /// everything beside it, readable by all. The real process finds its signing key and token there again (the chain
    /// still verifies, so calls are served) and tightens what it finds.
    /// </summary>
    [Fact]
    public async Task V1Layout_OnlyTheDatabasePathSet_SameFilesUsed_AndTightenedAtStart()
    {
        await using var vendor = await FakeVendor.StartAsync();
        var root = Directory.CreateTempSubdirectory("keybrake-v1-").FullName;
        var v1 = new Dictionary<string, string?> { ["KeyBrake__Storage__Sqlite__Path"] = "state/keybrake.db", ["KeyBrake__Audit__CheckpointEvery"] = "2" };
        var state = Path.Combine(root, "state");
        try
        {
            await using (var first = await KeyBrakeProcess.StartAsync(vendor, v1, root))
            {
                await TrafficAsync(first.Admin, first.Proxy, (label, allowed) => first.CreateKeyAsync(label, "stripe", allowed));
                await first.SignalAsync("TERM");
                Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            }
            Assert.True(File.Exists(Path.Combine(state, "audit-signing-key.pem")) && File.Exists(Path.Combine(state, "checkpoints.ndjson")));
            if (OperatingSystem.IsLinux())
            {
                await File.WriteAllTextAsync(Path.Combine(state, "admin-token"), "kba_left_by_v1\n");
                foreach (var entry in Directory.EnumerateFileSystemEntries(state, "*", SearchOption.AllDirectories).Append(state))
                {
                    File.SetUnixFileMode(entry, Directory.Exists(entry) ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100); // 0755, 0644 as v1 left them
                }
            }

            await using var second = await KeyBrakeProcess.StartAsync(vendor, v1, root);
            var (_, token) = await second.CreateKeyAsync("after-upgrade", "stripe", ["GET /v1/customers/*"]);
            using var call = await second.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_2", token));

            Assert.Equal(HttpStatusCode.OK, call.StatusCode); // the same signing key: the chain verified, proxy traffic is served
            Assert.Superset(new HashSet<string>(["admin-token", "audit-signing-key.pem", "checkpoints.ndjson", "keybrake.db", "keybrake.db-wal", "keybrake.db-shm"]),
                AssertOwnerOnly(state).ToHashSet());
            Assert.False(Directory.Exists(Path.Combine(root, "data")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Some keys, an allowed and a denied call: entries, WAL traffic and (every 2 entries) checkpoints.</summary>
    private static async Task TrafficAsync(HttpClient admin, HttpClient proxy, Func<string, string[], Task<(string Id, string Token)>> createKey)
    {
        var (id, token) = await createKey("files-run", ["GET /v1/customers/*"]);
        (await proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token))).EnsureSuccessStatusCode();
        (await proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/charges", token))).Dispose();
        (await admin.DeleteAsync($"/v1/keys/{id}?reason=done")).EnsureSuccessStatusCode();
    }

    /// <summary>Asserts every file below <paramref name="directory"/> is 0600 and every directory 0700; returns the files' relative paths.</summary>
    private static List<string> AssertOwnerOnly(string directory, string? except = null)
    {
        Assert.True(OperatingSystem.IsLinux(), "KeyBrake runs on Linux; this test checks file modes there.");
        var files = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            return files;
        }
        Assert.Equal(OwnerDirectory, File.GetUnixFileMode(directory));
        foreach (var entry in Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(directory, entry);
            if (relative == except)
            {
                continue;
            }
            var isDirectory = Directory.Exists(entry);
            Assert.True((isDirectory ? OwnerDirectory : OwnerFile) == File.GetUnixFileMode(entry),
                $"{relative}: {Convert.ToString((int)File.GetUnixFileMode(entry), 8)}, expected {(isDirectory ? "700" : "600")}");
            if (!isDirectory)
            {
                files.Add(relative);
            }
        }
        return files;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50);
        }
        Assert.True(condition(), "timed out");
    }
}

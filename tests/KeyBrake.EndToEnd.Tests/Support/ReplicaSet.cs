using System.Security.Cryptography;
using KeyBrake.Tests.Postgres;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>
/// A deployment of several real KeyBrake processes (<see cref="KeyBrakeProcess"/>) on one PostgreSQL database (SPEC §9):
/// a database of its own on the test server (or on <paramref name="server"/>), one checkpoint signing key shared by
/// every replica as Key Vault would share it, the fake vendor as every upstream.
/// </summary>
internal sealed class ReplicaSet : IAsyncDisposable
{
    private readonly List<KeyBrakeProcess> _replicas = [];
    private readonly FakeVendor _vendor;
    private readonly string _databaseName;
    private readonly string? _server;
    private readonly Dictionary<string, string?> _environment;

    private ReplicaSet(FakeVendor vendor, string databaseName, string connectionString, string? server, Dictionary<string, string?> environment)
    {
        _vendor = vendor;
        _databaseName = databaseName;
        ConnectionString = connectionString;
        _server = server;
        _environment = environment;
    }

    public string ConnectionString { get; }

    public IReadOnlyList<KeyBrakeProcess> Replicas => _replicas;

    public KeyBrakeProcess this[int index] => _replicas[index];

    /// <summary>Starts <paramref name="count"/> replicas together on an empty database.</summary>
    public static async Task<ReplicaSet> StartAsync(FakeVendor vendor, int count, Dictionary<string, string?>? environment = null, string? server = null)
    {
        var (name, connectionString) = await TestPostgres.CreateDatabaseAsync(server);
        using var signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var env = new Dictionary<string, string?>
        {
            ["KeyBrake__Storage__Provider"] = "Postgres",
            ["KeyBrake__Storage__Postgres__ConnectionString"] = connectionString,
            ["KeyBrake__Secrets__Local__audit-signing-key"] = signingKey.ExportPkcs8PrivateKeyPem(),
        };
        foreach (var (key, value) in environment ?? [])
        {
            env[key] = value;
        }
        var set = new ReplicaSet(vendor, name, connectionString, server, env);
        var starting = Enumerable.Range(0, count).Select(_ => KeyBrakeProcess.StartAsync(vendor, env)).ToList();
        try
        {
            set._replicas.AddRange(await Task.WhenAll(starting));
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await started.Result.DisposeAsync();
            }
            await TestPostgres.DropDatabaseAsync(name, server);
            throw;
        }
        return set;
    }

    /// <summary>One more replica on the same database.</summary>
    public async Task<KeyBrakeProcess> AddAsync()
    {
        var replica = await KeyBrakeProcess.StartAsync(_vendor, _environment);
        _replicas.Add(replica);
        return replica;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }
        await TestPostgres.DropDatabaseAsync(_databaseName, _server);
    }
}

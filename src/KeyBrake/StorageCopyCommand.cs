using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using KeyBrake.Audit;
using KeyBrake.Secrets;
using KeyBrake.Storage;
using KeyBrake.Storage.Postgres;
using KeyBrake.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace KeyBrake;

/// <summary>
/// <c>KeyBrake storage copy --from-sqlite PATH [--public-key FILE]</c> (SPEC §8, §9): a stopped SQLite deployment (the
/// database at PATH, its checkpoints.ndjson beside it) into the empty PostgreSQL database this host's configuration
/// names. Exit 0 copied, 1 refused or failed (nothing written), 2 bad usage or configuration, like the CLI.
/// </summary>
internal static class StorageCopyCommand
{
    public const string Name = "storage";

    private const string Usage = "usage: KeyBrake storage copy --from-sqlite PATH [--public-key FILE]";

    public static async Task<int> RunAsync(string[] args)
    {
        if (!TryParse(args, out var sqlitePath, out var publicKeyFile))
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }
        // The host's own configuration sources (appsettings, environment) and defaults; nothing is started.
        var configuration = WebApplication.CreateBuilder([]).Configuration;
        KeyBrakeHostExtensions.AddDefaults(configuration);
        await using var host = HostServices(configuration);
        KeyBrakeOptions options;
        try
        {
            options = host.GetRequiredService<IOptions<KeyBrakeOptions>>().Value;
        }
        catch (OptionsValidationException e)
        {
            await Console.Error.WriteLineAsync("KeyBrake storage copy: the configuration is invalid.");
            foreach (var failure in e.Failures)
            {
                await Console.Error.WriteLineAsync("  - " + failure);
            }
            return 2;
        }
        if (string.IsNullOrWhiteSpace(options.Storage.Postgres.ConnectionString))
        {
            await Console.Error.WriteLineAsync("KeyBrake storage copy: set KeyBrake:Storage:Postgres:ConnectionString (KeyBrake__Storage__Postgres__ConnectionString) to the empty target database.");
            return 2;
        }
        try
        {
            return await CopyAsync(sqlitePath, publicKeyFile, options, host.GetRequiredService<ISecretStore>());
        }
        catch (Exception e) when (e is StoreCopyRefusedException or DbException or IOException or UnauthorizedAccessException or CryptographicException
            or SecretUnavailableException or TimeoutException or InvalidOperationException or ArgumentException)
        {
            // DbException's message names the server and the problem, never the password.
            await Console.Error.WriteLineAsync($"KeyBrake storage copy: refused: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> CopyAsync(string sqlitePath, string? publicKeyFile, KeyBrakeOptions options, ISecretStore secrets)
    {
        sqlitePath = Path.GetFullPath(sqlitePath);
        if (!File.Exists(sqlitePath))
        {
            throw new StoreCopyRefusedException($"there is no SQLite database at {sqlitePath}.");
        }
        var directory = Path.GetDirectoryName(sqlitePath)!;
        var (publicKey, keyFrom) = await PublicKeyAsync(publicKeyFile, directory, options, secrets);
        using var _ = publicKey;
        var checkpointFile = Path.Combine(directory, DataDirectory.CheckpointsFile);

        await using var sqlite = Engine(s => s.AddKeyBrakeSqliteStorage(_ => new SqliteStoreOptions { Path = sqlitePath }));
        var sourceChain = sqlite.GetRequiredService<IAuditReader>();
        var checkpoints = sourceChain.ReadCheckpoints()
            .Concat(CheckpointFile.Read(checkpointFile, line => Console.Error.WriteLine($"{checkpointFile}: line {line} does not parse (a write torn by a crash); skipped")))
            .ToList();

        // The target as the replicas will reach it: the password from the secret store when PasswordSecretName names one (SPEC §9).
        var target = PostgresConnection.Resolve(options.Storage.Postgres, secrets);
        await using var postgres = Engine(s => s.AddKeyBrakePostgresStorage(_ => new PostgresStoreOptions { ConnectionString = target }));
        var copy = new StorageCopy(sqlite.GetRequiredService<IStoreCopySource>(), sourceChain,
            postgres.GetRequiredService<IStoreEngine>(), postgres.GetRequiredService<IStoreCopyTarget>());
        var result = await copy.RunAsync(checkpoints, publicKey, CancellationToken.None);
        Console.WriteLine(Summary(sqlitePath, Describe(target), keyFrom, result));
        return 0;
    }

    private static bool TryParse(string[] args, out string sqlitePath, out string? publicKeyFile)
    {
        (sqlitePath, publicKeyFile) = ("", null);
        if (args is not [Name, "copy", .. var rest])
        {
            return false;
        }
        for (var i = 0; i < rest.Length; i += 2)
        {
            if (i + 1 >= rest.Length || string.IsNullOrWhiteSpace(rest[i + 1]))
            {
                return false;
            }
            switch (rest[i])
            {
                case "--from-sqlite" when sqlitePath.Length == 0:
                    sqlitePath = rest[i + 1];
                    break;
                case "--public-key" when publicKeyFile is null:
                    publicKeyFile = rest[i + 1];
                    break;
                default:
                    return false;
            }
        }
        return sqlitePath.Length > 0;
    }

    /// <summary>The host's options (validated as at start) and secret store, nothing else.</summary>
    private static ServiceProvider HostServices(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddSingleton(TimeProvider.System);
        services.AddLogging();
        services.AddKeyBrakeOptions(configuration);
        services.AddKeyBrakeSecrets(configuration);
        return services.BuildServiceProvider();
    }

    private static ServiceProvider Engine(Action<IServiceCollection> add)
    {
        var services = new ServiceCollection();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        add(services);
        return services.BuildServiceProvider();
    }

    /// <summary>
    /// The key that verifies the checkpoints: <c>--public-key</c>; else the signing key as the host loads it (the secret
    /// store, SPEC §7), which is also what the replicas will verify the copied checkpoints with; else, with the Local
    /// provider, the key the SQLite deployment created beside its database. None: refused (fail closed).
    /// </summary>
    private static async Task<(ECDsa Key, string From)> PublicKeyAsync(string? file, string directory, KeyBrakeOptions options, ISecretStore secrets)
    {
        if (file is not null)
        {
            return (SigningKeys.Load(await File.ReadAllTextAsync(file)), file);
        }
        var name = options.Audit.SigningKeySecretName;
        try
        {
            return (SigningKeys.Load(await secrets.GetAsync(name, CancellationToken.None)), $"the secret '{name}'");
        }
        catch (SecretUnavailableException) when (options.Secrets.Provider == "Local")
        {
            var beside = Path.Combine(directory, DataDirectory.SigningKeyFile);
            return File.Exists(beside)
                ? (SigningKeys.Load(await File.ReadAllTextAsync(beside)), beside)
                : throw new StoreCopyRefusedException($"no key to verify the checkpoints with: pass --public-key FILE (the deployment's audit public key), or configure the secret '{name}'.");
        }
    }

    /// <summary>Host, port and database of the target: never its password.</summary>
    private static string Describe(string connectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string Part(string key, string otherwise) => builder.TryGetValue(key, out var value) ? Convert.ToString(value, CultureInfo.InvariantCulture)! : otherwise;
        return $"{Part("Host", "?")}:{Part("Port", "5432")}/{Part("Database", Part("Username", "?"))}";
    }

    private static string Summary(string sqlitePath, string target, string keyFrom, StorageCopyResult result)
    {
        var rows = result.Tables.ToDictionary(t => t.Name, t => t.Rows.Count, StringComparer.Ordinal);
        return string.Create(CultureInfo.InvariantCulture, $"""
            Copied {sqlitePath} into PostgreSQL {target}:
              principals    {rows.GetValueOrDefault("principals")}
              keys          {rows.GetValueOrDefault("vault_keys")}
              entries       {result.Entries}
              checkpoints   {result.Checkpoints}
              head          seq {result.HeadSeq} hash {result.HeadHash}
              spend         from the chain: the ledger rebuilds each key's day from its entries
            The chain verified against the checkpoints (key: {keyFrom}) before the copy, and again read back from PostgreSQL.
            """);
    }
}

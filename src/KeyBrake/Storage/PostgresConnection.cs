using System.Data.Common;
using KeyBrake.Secrets;

namespace KeyBrake.Storage;

/// <summary>
/// SPEC §9: the connection string as configured, with its password from the secret store when
/// <c>KeyBrake:Storage:Postgres:PasswordSecretName</c> names one (so Key Vault holds it in production and no
/// configuration file does). Read once, when the engine is first built at start-up.
/// </summary>
internal static class PostgresConnection
{
    public static string Resolve(PostgresStorageOptions options, ISecretStore secrets)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = options.ConnectionString! }; // the validator requires it
        if (options.PasswordSecretName is { } name)
        {
            // Start-up only: a missing secret stops the process with its name (SecretUnavailableException), never its value.
            builder["Password"] = secrets.GetAsync(name, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        return builder.ConnectionString;
    }
}

using KeyBrake.Audit;
using KeyBrake.Keys;
using KeyBrake.Storage;
using Microsoft.Extensions.Options;

namespace KeyBrake.Admin;

/// <summary>
/// SPEC §2: a configured <c>KeyBrake:Admin:BootstrapToken</c> makes principal <c>bootstrap</c> (every role) use it;
/// with none and no principal at all, the first start creates <c>bootstrap</c> and writes its token to
/// <c>{DataDirectory}/admin-token</c> (mode 0600), logging the path, never the token.
/// </summary>
internal sealed partial class AdminBootstrap(
    IPrincipalStore principals, DataDirectory dataDirectory, AuditLog audit, TimeProvider time, IOptions<KeyBrakeOptions> options, ILogger<AdminBootstrap> logger)
{
    public const string Name = "bootstrap";

    public string TokenFilePath => dataDirectory.File(DataDirectory.AdminTokenFile);

    public void Run()
    {
        var principal = new Principal(Name, Roles.All, Timestamps.Truncate(time.GetUtcNow()), "system", null);
        if (options.Value.Admin.BootstrapToken is { } configured)
        {
            // Insert first: of replicas starting together (SPEC §9) exactly one creates it, and only that one records it.
            var created = principals.InsertAsync(principal, VaultToken.Hash(configured), CancellationToken.None).GetAwaiter().GetResult();
            if (!created)
            {
                principals.UpsertAsync(principal, VaultToken.Hash(configured), CancellationToken.None).GetAwaiter().GetResult();
            }
            Log.ConfiguredBootstrap(logger);
            if (created)
            {
                Record(principal);
            }
            return;
        }
        if (principals.CountAsync(CancellationToken.None).GetAwaiter().GetResult() > 0)
        {
            return;
        }
        var token = VaultToken.NewPrincipalToken();
        OwnerOnlyFile.Write(TokenFilePath, token + "\n");
        if (!principals.InsertAsync(principal, VaultToken.Hash(token), CancellationToken.None).GetAwaiter().GetResult())
        {
            return; // another instance won the race; its token file stands
        }
        Log.GeneratedBootstrap(logger, TokenFilePath);
        Record(principal);
    }

    private void Record(Principal principal)
    {
        if (!audit.AppendDurableAsync(PrincipalEntries.PrincipalCreated(principal, Timestamps.ToText(principal.CreatedAt)), CancellationToken.None).GetAwaiter().GetResult())
        {
            throw new AuditUnavailableException("The audit log could not record the bootstrap principal.");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Principal 'bootstrap' uses the configured KeyBrake:Admin:BootstrapToken")]
        public static partial void ConfiguredBootstrap(ILogger logger);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Created principal 'bootstrap' with every role; its admin token is in {Path} (mode 0600)")]
        public static partial void GeneratedBootstrap(ILogger logger, string path);
    }
}

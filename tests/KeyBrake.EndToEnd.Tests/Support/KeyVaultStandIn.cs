using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>
/// A local stand-in for the Key Vault secrets REST API over HTTPS on loopback, with a self-signed certificate made
/// here: an unauthenticated request gets Key Vault's 401 Bearer challenge, an authenticated
/// <c>GET /secrets/{name}[/{version}]</c> gets the current version. Secrets can be rotated; the vault can answer
/// errors (with Retry-After), hang, or go down and come back on the same port. It also serves the App Service managed
/// identity token endpoint (<c>IDENTITY_ENDPOINT</c>), so a KeyBrake child process authenticates with the real
/// <c>DefaultAzureCredential</c> (see <see cref="ChildProcessEnvironment"/>).
/// </summary>
internal sealed class KeyVaultStandIn : IAsyncDisposable
{
    public const string AccessToken = "kv-test-access-token";
    public const string IdentityHeader = "kv-test-identity-header";

    private readonly X509Certificate2 _certificate;
    private readonly ConcurrentDictionary<string, (string Value, int Version)> _secrets = new();
    private readonly ConcurrentQueue<(int Status, string? RetryAfter)> _failures = new();
    private readonly int _port;
    private WebApplication? _app;

    private KeyVaultStandIn(X509Certificate2 certificate, int port)
    {
        _certificate = certificate;
        _port = port;
        VaultUri = new Uri($"https://127.0.0.1:{port}/");
    }

    public Uri VaultUri { get; }

    public int ChallengesSent;
    public int SecretReads;
    /// <summary>Every request to the secrets API, answered or not (a read refused by a fault counts too).</summary>
    public int Requests;

    /// <summary>When each request to the secrets API arrived.</summary>
    public ConcurrentQueue<DateTimeOffset> RequestTimes { get; } = new();
    public int TokensIssued;

    /// <summary>When set, every request answers this status (e.g. 500 or 503) instead.</summary>
    public int? FailWith { get; set; }

    /// <summary>When set, secret reads never answer (until the client gives up).</summary>
    public bool Hang { get; set; }

    public static async Task<KeyVaultStandIn> StartAsync()
    {
        var vault = new KeyVaultStandIn(CreateCertificate(), FreePort.Next());
        await vault.StartListeningAsync();
        return vault;
    }

    /// <summary>The next <paramref name="count"/> secret reads answer <paramref name="status"/> (with Retry-After, if given).</summary>
    public void FailNext(int count, int status, string? retryAfter = null)
    {
        for (var i = 0; i < count; i++)
        {
            _failures.Enqueue((status, retryAfter));
        }
    }

    public void ClearFailures() => _failures.Clear();

    /// <summary>Takes the vault off the network: connections are refused until <see cref="StartListeningAsync"/>.</summary>
    public async Task GoDownAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    public async Task StartListeningAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, _port, listen => listen.UseHttps(_certificate)));
        var app = builder.Build();
        app.MapGet("/secrets/{name}/{version?}", (HttpContext context, string name) => HandleAsync(context, name));
        app.MapGet("/msi/token", IssueToken);
        await app.StartAsync();
        _app = app;
    }

    /// <summary>
    /// What a KeyBrake child process needs to use this vault through DefaultAzureCredential: the managed identity
    /// endpoint (App Service style), only that credential in the chain, and this vault's certificate as the trusted root.
    /// The challenge names vault.azure.net while the vault is 127.0.0.1, so the domain check is off (as for a vault
    /// behind a custom domain); nothing else differs from production.
    /// </summary>
    public Dictionary<string, string?> ChildProcessEnvironment(string directory)
    {
        var pem = Path.Combine(directory, "kv-stand-in-root.pem");
        File.WriteAllText(pem, _certificate.ExportCertificatePem());
        return new()
        {
            ["IDENTITY_ENDPOINT"] = new Uri(VaultUri, "msi/token").ToString(),
            ["IDENTITY_HEADER"] = IdentityHeader,
            ["AZURE_TOKEN_CREDENTIALS"] = "ManagedIdentityCredential",
            ["SSL_CERT_FILE"] = pem,
            ["SSL_CERT_DIR"] = directory,
            ["KeyBrake__Secrets__Provider"] = "AzureKeyVault",
            ["KeyBrake__Secrets__KeyVaultUri"] = VaultUri.ToString(),
            ["KeyBrake__Secrets__VerifyChallengeResource"] = "false",
        };
    }

    public void SetSecret(string name, string value) =>
        _secrets.AddOrUpdate(name, (value, 1), (_, old) => (value, old.Version + 1));

    /// <summary>A real SecretClient for this vault: trusts only this certificate, no retries.</summary>
    public SecretClient CreateClient()
    {
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert is not null && cert.Thumbprint == _certificate.Thumbprint,
        };
        var options = new SecretClientOptions
        {
            Transport = new HttpClientTransport(new HttpClient(handler)),
            DisableChallengeResourceVerification = true, // the challenge names vault.azure.net, the host is 127.0.0.1
        };
        options.Retry.MaxRetries = 0;
        return new SecretClient(VaultUri, new StaticCredential(), options);
    }

    private IResult IssueToken(HttpContext context)
    {
        if (context.Request.Headers["X-IDENTITY-HEADER"].ToString() != IdentityHeader)
        {
            return Results.Json(new { error = "invalid_request", error_description = "X-IDENTITY-HEADER is missing or wrong" }, statusCode: 400);
        }
        Interlocked.Increment(ref TokensIssued);
        return Results.Json(new
        {
            access_token = AccessToken,
            expires_on = TimeProvider.System.GetUtcNow().AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            resource = context.Request.Query["resource"].ToString(),
            token_type = "Bearer",
        });
    }

    private async Task<IResult> HandleAsync(HttpContext context, string name)
    {
        Interlocked.Increment(ref Requests);
        RequestTimes.Enqueue(TimeProvider.System.GetUtcNow());
        if (FailWith is { } status)
        {
            return Results.Json(new { error = new { code = "ServiceUnavailable", message = "stand-in failure" } }, statusCode: status);
        }
        if (context.Request.Headers.Authorization.ToString() != "Bearer " + AccessToken)
        {
            Interlocked.Increment(ref ChallengesSent);
            context.Response.Headers.WWWAuthenticate =
                "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001\", resource=\"https://vault.azure.net\"";
            return Results.Json(new { error = new { code = "Unauthorized", message = "Request is missing a Bearer or PoP token." } }, statusCode: 401);
        }
        Interlocked.Increment(ref SecretReads);
        if (Hang)
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return Results.Empty;
        }
        if (_failures.TryDequeue(out var failure))
        {
            if (failure.RetryAfter is not null)
            {
                context.Response.Headers.RetryAfter = failure.RetryAfter;
            }
            return Results.Json(new { error = new { code = failure.Status == 429 ? "Throttled" : "InternalServerError", message = "stand-in failure" } }, statusCode: failure.Status);
        }
        if (!_secrets.TryGetValue(name, out var secret))
        {
            return Results.Json(new { error = new { code = "SecretNotFound", message = $"A secret with (name/id) {name} was not found in this key vault." } }, statusCode: 404);
        }
        return Results.Json(new
        {
            value = secret.Value,
            id = new Uri(VaultUri, $"secrets/{name}/{secret.Version:x32}").ToString(),
            attributes = new { enabled = true, created = 1767225600, updated = 1767225600, recoveryLevel = "Recoverable+Purgeable" },
        });
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(TimeProvider.System.GetUtcNow().AddDays(-1), TimeProvider.System.GetUtcNow().AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    public async ValueTask DisposeAsync()
    {
        await GoDownAsync();
        _certificate.Dispose();
    }

    /// <summary>Stands in for DefaultAzureCredential; records the scopes Key Vault's challenge asked for.</summary>
    internal sealed class StaticCredential : TokenCredential
    {
        public static readonly ConcurrentBag<string> Scopes = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            foreach (var scope in requestContext.Scopes)
            {
                Scopes.Add(scope);
            }
            return new AccessToken(AccessToken, DateTimeOffset.MaxValue);
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}

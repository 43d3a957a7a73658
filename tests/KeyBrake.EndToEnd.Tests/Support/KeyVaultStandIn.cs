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
/// <c>GET /secrets/{name}[/{version}]</c> gets the current version. Secrets can be rotated and the vault taken down.
/// </summary>
internal sealed class KeyVaultStandIn : IAsyncDisposable
{
    public const string AccessToken = "kv-test-access-token";

    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;
    private readonly ConcurrentDictionary<string, (string Value, int Version)> _secrets = new();

    private KeyVaultStandIn(WebApplication app, X509Certificate2 certificate, int port)
    {
        _app = app;
        _certificate = certificate;
        VaultUri = new Uri($"https://127.0.0.1:{port}/");
    }

    public Uri VaultUri { get; }

    public int ChallengesSent;
    public int SecretReads;

    /// <summary>When set, every request answers this status (e.g. 500 or 503) instead.</summary>
    public int? FailWith { get; set; }

    public static async Task<KeyVaultStandIn> StartAsync()
    {
        var port = FreePort.Next();
        var certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        KeyVaultStandIn? vault = null;
        app.MapGet("/secrets/{name}/{version?}", (HttpContext context, string name) => vault!.Handle(context, name));
        vault = new KeyVaultStandIn(app, certificate, port);
        await app.StartAsync();
        return vault;
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

    private IResult Handle(HttpContext context, string name)
    {
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
        await _app.StopAsync();
        await _app.DisposeAsync();
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

using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Proxy;

/// <summary>
/// SPEC §4 step 11: the vendor secret never reaches the agent, even from an upstream that echoes what it received —
/// in any response header (Location) and in 3xx/4xx/5xx bodies, compressed or not.
/// </summary>
public sealed class SecretScrubbingTests : HostedTest
{
    private static readonly string TwilioBasic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{KeyBrakeHost.TwilioAccountSid}:{KeyBrakeHost.TwilioSecret}"));

    [Fact]
    public async Task UpstreamEchoingTheSecret_InAnErrorBodyAndHeaders_ReachesTheAgentRedacted()
    {
        var (_, token) = await Host.CreateKeyAsync("scrub-run", "stripe", ["GET /v1/customers/*"]);
        Vendor.Respond = request => (401,
            $$$"""{"error":{"message":"Invalid API Key provided: {{{request.Headers["Authorization"]["Bearer ".Length..]}}}","type":"invalid_request_error"}}""",
            new() { ["Location"] = "https://dashboard.example/keys?key=" + KeyBrakeHost.StripeSecret, ["X-Echo"] = request.Headers["Authorization"] });

        using var response = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("""{"error":{"message":"Invalid API Key provided: [redacted]","type":"invalid_request_error"}}""", body);
        Assert.Equal("https://dashboard.example/keys?key=[redacted]", response.Headers.Location!.OriginalString);
        Assert.Equal("Bearer [redacted]", response.Headers.GetValues("X-Echo").Single());
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.DoesNotContain(KeyBrakeHost.StripeSecret, response.ToString() + body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redirect_WithTheSecretInLocation_IsRedacted()
    {
        var (_, token) = await Host.CreateKeyAsync("scrub-redirect", "stripe", ["GET /v1/customers/*"]);
        Vendor.Respond = _ => (302, $$"""{"next":"/cb?k={{KeyBrakeHost.StripeSecret}}"}""", new() { ["Location"] = "/cb?k=" + KeyBrakeHost.StripeSecret });
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Host.Proxy.BaseAddress };

        using var response = await client.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/cus_1", token));

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("/cb?k=[redacted]", response.Headers.Location!.OriginalString);
        Assert.Equal("""{"next":"/cb?k=[redacted]"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Twilio_EchoOfTheBasicCredentialOrTheToken_IsRedacted()
    {
        var (_, token) = await Host.CreateKeyAsync("scrub-twilio", "twilio", ["GET /2010-04-01/Accounts/*/Messages.json"]);
        Vendor.Respond = request => (403,
            $$"""{"code":20003,"message":"Authenticate","auth":"{{request.Headers["Authorization"]}}","token":"{{KeyBrakeHost.TwilioSecret}}"}""", null);

        using var response = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get,
            $"/twilio/2010-04-01/Accounts/{KeyBrakeHost.TwilioAccountSid}/Messages.json", token));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("""{"code":20003,"message":"Authenticate","auth":"Basic [redacted]","token":"[redacted]"}""", body);
        Assert.DoesNotContain(TwilioBasic, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompressedErrorBody_IsDecodedAndScrubbed_AndAnUnknownCodingIsWithheld()
    {
        var secretEcho = Encoding.UTF8.GetBytes($$$"""{"error":{"message":"bad key {{{KeyBrakeHost.StripeSecret}}}"}}""");
        await using var upstream = await RawUpstream.StartAsync(path => path.EndsWith("/gzip", StringComparison.Ordinal)
            ? Response(400, "gzip", Gzip(secretEcho))
            : Response(500, "zstd", secretEcho)); // a coding KeyBrake cannot read: it must not pass bytes nobody checked
        await using var host = await KeyBrakeHost.StartAsync(Vendor, new() { ["KeyBrake:Vendors:stripe:Upstream"] = upstream.BaseUrl });
        var (_, token) = await host.CreateKeyAsync("scrub-gzip", "stripe", ["GET /v1/customers/*"]);
        using var client = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = host.Proxy.BaseAddress };

        using var gzipped = await client.SendAsync(WithAcceptEncoding(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/gzip", token)));
        using var unknown = await client.SendAsync(WithAcceptEncoding(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/zstd", token)));

        Assert.Equal(HttpStatusCode.BadRequest, gzipped.StatusCode);
        Assert.Empty(gzipped.Content.Headers.ContentEncoding);
        Assert.Equal("""{"error":{"message":"bad key [redacted]"}}""", await gzipped.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.InternalServerError, unknown.StatusCode);
        Assert.Empty(await unknown.Content.ReadAsByteArrayAsync());
        Assert.Empty(unknown.Content.Headers.ContentEncoding);
    }

    private static HttpRequestMessage WithAcceptEncoding(HttpRequestMessage request)
    {
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, br, zstd");
        return request;
    }

    private static byte[] Gzip(byte[] plain)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(plain);
        }
        return compressed.ToArray();
    }

    private static byte[] Response(int status, string coding, byte[] body) =>
    [
        .. Encoding.ASCII.GetBytes($"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Encoding: {coding}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"),
        .. body,
    ];

    /// <summary>An upstream answering fixed bytes (a compressed body FakeVendor cannot send) to body-less requests.</summary>
    private sealed class RawUpstream : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Task _serving;

        private RawUpstream(TcpListener listener, Func<string, byte[]> respond)
        {
            _listener = listener;
            _serving = ServeAsync(respond);
        }

        public string BaseUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public static Task<RawUpstream> StartAsync(Func<string, byte[]> respond)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return Task.FromResult(new RawUpstream(listener, respond));
        }

        private async Task ServeAsync(Func<string, byte[]> respond)
        {
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptTcpClientAsync();
                    await using var stream = client.GetStream();
                    var head = new StringBuilder();
                    var buffer = new byte[4096];
                    while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var read = await stream.ReadAsync(buffer);
                        if (read == 0)
                        {
                            break;
                        }
                        head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    }
                    await stream.WriteAsync(respond(head.ToString().Split(' ')[1]));
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
                // stopped
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _serving;
        }
    }
}

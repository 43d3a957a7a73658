using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Proxy;

/// <summary>
/// SPEC §4 step 11: the vendor secret never reaches the agent, even from an upstream that echoes what it received —
/// in any response header (Location) and in 3xx/4xx/5xx bodies, compressed or not, and in Twilio's 2xx bodies (its
/// Account resource carries <c>auth_token</c>).
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

    /// <summary>Twilio's Account resource carries <c>auth_token</c> — the very secret KeyBrake injects — in a 200.</summary>
    [Fact]
    public async Task TwilioAccountFetchAndList_AuthTokenInA200_ReachesTheAgentRedacted()
    {
        var (_, token) = await Host.CreateKeyAsync("scrub-account", "twilio", ["GET /2010-04-01/Accounts/*", "GET /2010-04-01/Accounts.json"]);
        Vendor.Respond = request => (200, request.Path.EndsWith("/Accounts.json", StringComparison.Ordinal)
            ? $$"""{"accounts":[{"sid":"AC2","auth_token":"{{KeyBrakeHost.TwilioSecret}}"}],"page":0}"""
            : AccountJson, null);

        using var fetched = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, $"/twilio/2010-04-01/Accounts/{KeyBrakeHost.TwilioAccountSid}.json", token));
        using var listed = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/twilio/2010-04-01/Accounts.json", token));
        var fetchedBody = await fetched.Content.ReadAsStringAsync();

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (fetched.StatusCode, listed.StatusCode));
        Assert.Equal(AccountJson.Replace(KeyBrakeHost.TwilioSecret, SecretScrubberRedacted, StringComparison.Ordinal), fetchedBody);
        Assert.Equal(fetchedBody.Length, fetched.Content.Headers.ContentLength);
        Assert.Equal("""{"accounts":[{"sid":"AC2","auth_token":"[redacted]"}],"page":0}""", await listed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TwilioAccountFetch_Gzip_LargerThanTheBuffer_OrAnUnknownCoding_NeverShowsTheSecret()
    {
        var account = Encoding.UTF8.GetBytes(AccountJson);
        // Over the 1 MiB the bounded path reads: streamed through the scrubber, the secret placed across every
        // read boundary a 16 KiB buffer could have.
        var padding = new string(' ', 16 * 1024 - 7);
        var large = Encoding.UTF8.GetBytes("[" + string.Join(",", Enumerable.Range(0, 80).Select(i => $$"""{"p":"{{padding[..(i % 40)]}}{{padding}}","auth_token":"{{KeyBrakeHost.TwilioSecret}}"}""")) + "]");
        await using var upstream = await RawUpstream.StartAsync(path => path switch
        {
            _ when path.EndsWith("/gzip.json", StringComparison.Ordinal) => Response(200, "gzip", Gzip(account)),
            _ when path.EndsWith("/large.json", StringComparison.Ordinal) => Response(200, "identity", large),
            _ when path.EndsWith("/largegzip.json", StringComparison.Ordinal) => Response(200, "gzip", Gzip(large)),
            _ => Response(200, "zstd", account),
        });
        await using var host = await KeyBrakeHost.StartAsync(Vendor, new() { ["KeyBrake:Vendors:twilio:Upstream"] = upstream.BaseUrl });
        var (_, token) = await host.CreateKeyAsync("scrub-account-gzip", "twilio", ["GET /2010-04-01/Accounts/*"]);
        using var client = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = host.Proxy.BaseAddress };

        using var gzipped = await client.SendAsync(WithAcceptEncoding(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/twilio/2010-04-01/Accounts/gzip.json", token)));
        using var largePlain = await client.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/twilio/2010-04-01/Accounts/large.json", token));
        using var largeGzip = await client.SendAsync(WithAcceptEncoding(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/twilio/2010-04-01/Accounts/largegzip.json", token)));
        using var unknown = await client.SendAsync(WithAcceptEncoding(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/twilio/2010-04-01/Accounts/zstd.json", token)));

        var expectedLarge = Encoding.UTF8.GetString(large).Replace(KeyBrakeHost.TwilioSecret, SecretScrubberRedacted, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, gzipped.StatusCode);
        Assert.Empty(gzipped.Content.Headers.ContentEncoding);
        Assert.Equal(AccountJson.Replace(KeyBrakeHost.TwilioSecret, SecretScrubberRedacted, StringComparison.Ordinal), await gzipped.Content.ReadAsStringAsync());
        Assert.Equal(expectedLarge, await largePlain.Content.ReadAsStringAsync());
        Assert.Empty(largeGzip.Content.Headers.ContentEncoding);
        Assert.Equal(expectedLarge, await largeGzip.Content.ReadAsStringAsync());
        // A coding KeyBrake cannot read: the status stands (the call happened), the body is withheld, and a header says so.
        Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
        Assert.Empty(await unknown.Content.ReadAsByteArrayAsync());
        Assert.Equal("undecodable", unknown.Headers.GetValues("X-KeyBrake-Body-Withheld").Single());
    }

    private const string SecretScrubberRedacted = "[redacted]";

    private static readonly string AccountJson =
        $$"""{"sid":"{{KeyBrakeHost.TwilioAccountSid}}","friendly_name":"main","status":"active","auth_token":"{{KeyBrakeHost.TwilioSecret}}","type":"Full"}""";

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

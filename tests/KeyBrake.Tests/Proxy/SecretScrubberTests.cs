using System.IO.Compression;
using System.Text;
using KeyBrake.Proxy;
using Microsoft.AspNetCore.Http;

namespace KeyBrake.Tests.Proxy;

public sealed class SecretScrubberTests
{
    private const string Secret = "sk_test_sekr1t_value";
    private const string TwilioToken = "4~283fefc63f0cd0e87~3a000>0c6d0?7"; // its Basic credential has both + and / in base64
    private static readonly string TwilioBasic = Convert.ToBase64String(Encoding.UTF8.GetBytes("AC0001:" + TwilioToken));

    [Fact]
    public void ScrubHeaders_ReplacesTheSecretInAnyHeader_AndLeavesOthersAlone()
    {
        var headers = new HeaderDictionary
        {
            ["Location"] = "https://example.com/cb?key=" + Secret + "&x=1",
            ["X-Debug"] = new(["auth: Bearer " + Secret, "clean"]),
            ["Request-Id"] = "req_1",
        };

        SecretScrubber.For("scrub-test-stripe", "Bearer " + Secret).Scrub(headers);

        Assert.Equal("https://example.com/cb?key=[redacted]&x=1", headers["Location"].ToString());
        Assert.Equal("auth: Bearer [redacted],clean", headers["X-Debug"].ToString());
        Assert.Equal("req_1", headers["Request-Id"].ToString());
    }

    [Theory]
    [InlineData("{\"error\":\"bad key " + Secret + "\"}", "{\"error\":\"bad key [redacted]\"}")]
    [InlineData("k=" + Secret + "&k2=" + Secret, "k=[redacted]&k2=[redacted]")]
    [InlineData("nothing here", "nothing here")]
    public void ScrubBody_ReplacesEveryOccurrence(string body, string expected)
    {
        var scrubbed = SecretScrubber.For("scrub-test-stripe", "Bearer " + Secret).Scrub(Encoding.UTF8.GetBytes(body));

        Assert.Equal(expected, Encoding.UTF8.GetString(scrubbed));
    }

    [Fact]
    public void ScrubBody_Twilio_ReplacesTheTokenAndTheBasicCredentialInEachForm()
    {
        var jsonEscaped = TwilioBasic.Replace("+", "\\u002B", StringComparison.Ordinal).Replace("/", "\\/", StringComparison.Ordinal);
        var body = $"token {TwilioToken}; header Basic {TwilioBasic}; url {Uri.EscapeDataString(TwilioBasic)}; "
            + $"{System.Text.Encodings.Web.JavaScriptEncoder.Default.Encode(TwilioBasic)}; {jsonEscaped}; {TwilioBasic.Replace("/", "\\/", StringComparison.Ordinal)}";

        var scrubbed = Encoding.UTF8.GetString(SecretScrubber.For("scrub-test-twilio", "Basic " + TwilioBasic).Scrub(Encoding.UTF8.GetBytes(body)));

        Assert.Equal("token [redacted]; header Basic [redacted]; url [redacted]; [redacted]; [redacted]; [redacted]", scrubbed);
    }

    [Fact]
    public void For_ARotatedSecret_IsScrubbedToo()
    {
        SecretScrubber.For("scrub-test-rotate", "Bearer old_secret_1");

        var scrubbed = SecretScrubber.For("scrub-test-rotate", "Bearer new_secret_2").Scrub(Encoding.UTF8.GetBytes("x new_secret_2 x"));

        Assert.Equal("x [redacted] x", Encoding.UTF8.GetString(scrubbed));
    }

    [Fact]
    public void Decode_Gzip_IsReadable_UnknownOrStackedOrOversizedIsNot()
    {
        var plain = Encoding.UTF8.GetBytes("{\"error\":\"" + Secret + "\"}");
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(plain);
        }
        var gz = compressed.ToArray();

        Assert.Equal(plain, ContentDecoding.Decode(gz, ["gzip"], 1024));
        Assert.Equal(plain, ContentDecoding.Decode(plain, [], 1024));
        Assert.Equal(plain, ContentDecoding.Decode(plain, ["identity"], 1024));
        Assert.Null(ContentDecoding.Decode(gz, ["zstd"], 1024));
        Assert.Null(ContentDecoding.Decode(gz, ["gzip, br"], 1024));
        Assert.Null(ContentDecoding.Decode(gz, ["gzip"], plain.Length - 1));
        Assert.Null(ContentDecoding.Decode(plain, ["gzip"], 1024)); // not gzip at all
    }

    /// <summary>The streamed scrub agrees with the whole-body scrub wherever the reads happen to split the secret.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task CopyScrubbed_AnyReadSize_RedactsFormsSplitAcrossReads_LikeTheWholeBodyScrub(int readSize)
    {
        var scrubber = SecretScrubber.For("scrub-test-twilio-stream", "Basic " + TwilioBasic);
        var body = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 3000).Select(i =>
            i % 3 == 0 ? $"{{\"auth_token\":\"{TwilioToken}\"}}" : i % 3 == 1 ? "Basic " + TwilioBasic + new string('x', i % 11) : new string('y', i % 17))));
        using var destination = new MemoryStream();

        await scrubber.CopyScrubbedAsync(new TrickleStream(body, readSize), destination, CancellationToken.None);

        Assert.Equal(Encoding.UTF8.GetString(scrubber.Scrub(body)), Encoding.UTF8.GetString(destination.ToArray()));
        Assert.DoesNotContain(TwilioToken, Encoding.UTF8.GetString(destination.ToArray()), StringComparison.Ordinal);
    }

    /// <summary>A body that arrives <c>readSize</c> bytes at a time.</summary>
    private sealed class TrickleStream(byte[] body, int readSize) : MemoryStream(body)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, readSize)], cancellationToken);
    }
}

using System.IO.Compression;
using System.Net;
using System.Text;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Spend;

/// <summary>
/// SPEC §5 "one reading of a body" through the real host: each body the outside review sent, which KeyBrake priced
/// one way while the vendor could read it another, is 422 <c>unpriceable_request</c>: nothing reaches the vendor and
/// nothing is spent or reserved.
/// </summary>
public sealed class StrictBodyTests : HostedTest
{
    private const string Form = "application/x-www-form-urlencoded";
    private const string Messages = "/twilio/2010-04-01/Accounts/" + KeyBrakeHost.TwilioAccountSid + "/Messages.json";

    [Theory]
    [InlineData("amount=100&currency=usd&[amount]=99999999")]          // Rack reads [amount] as amount
    [InlineData("amount=100&amount[]=99999999&currency=usd")]
    [InlineData("amount=100&currency=usd&%5Bamount%5D=99999999")]
    [InlineData("x=1;amount=99999999&amount=100&currency=usd")]        // ';' as a separator
    [InlineData("amount=100&currency=usd&%61mount=99999999")]          // the same name, percent-encoded
    [InlineData("amount=100&currency=usd&amount[x]=99999999")]
    [InlineData("amount=0100&currency=usd")]
    public async Task AmbiguousForm_Is422(string body)
    {
        var (id, token) = await Host.CreateKeyAsync("ambiguous-form", "stripe", ["POST /v1/payment_intents"], cap: 5);

        using var response = await PricedCall.SendAsync(Host, token, "POST", "/stripe/v1/payment_intents", Form, Encoding.UTF8.GetBytes(body));

        await PricedCall.AssertUnpriceableAsync(Host, Vendor, id, response);
    }

    [Theory]
    [InlineData("?amount=99999999")]
    [InlineData("?%61mount=99999999")]
    [InlineData("?x=1;amount=99999999")]
    public async Task QueryRepeatingOrSplittingTheBody_Is422(string query)
    {
        var (id, token) = await Host.CreateKeyAsync("ambiguous-query", "stripe", ["POST /v1/payment_intents"], cap: 5);

        using var response = await PricedCall.SendAsync(Host, token, "POST", "/stripe/v1/payment_intents" + query, Form, Encoding.UTF8.GetBytes("amount=100&currency=usd"));

        await PricedCall.AssertUnpriceableAsync(Host, Vendor, id, response);
    }

    [Fact]
    public async Task GzipBody_WhoseRawBytesReadAsASmallAmount_Is422()
    {
        // The gzip header's comment holds "&amount=100&currency=usd&": read raw, a $1 intent; decompressed, $999,999.99.
        var (id, token) = await Host.CreateKeyAsync("gzip-body", "stripe", ["POST /v1/payment_intents"], cap: 5);
        var body = GzipWithComment("amount=99999999&currency=usd", "&amount=100&currency=usd&");

        using var response = await PricedCall.SendAsync(Host, token, "POST", "/stripe/v1/payment_intents", Form, body, contentEncoding: "gzip");

        await PricedCall.AssertUnpriceableAsync(Host, Vendor, id, response);
    }

    [Fact]
    public async Task Utf16Charset_WhoseUtf8ReadingIsASmallAmount_Is422()
    {
        // Read as UTF-8, a $1 intent followed by a junk field; read as UTF-16, a junk field and then $999,999.99.
        var (id, token) = await Host.CreateKeyAsync("utf16-body", "stripe", ["POST /v1/payment_intents"], cap: 5);
        byte[] body = [.. "amount=100&currency=usd&x="u8, .. Encoding.Unicode.GetBytes("&amount=99999999&currency=usd")];

        using var response = await PricedCall.SendAsync(Host, token, "POST", "/stripe/v1/payment_intents", Form + "; charset=utf-16", body);

        await PricedCall.AssertUnpriceableAsync(Host, Vendor, id, response);
    }

    [Fact]
    public async Task JsonWithADuplicatedRecipientList_Is422()
    {
        // JSON.parse keeps the last "to": fifty addresses where KeyBrake counted one.
        var (id, token) = await Host.CreateKeyAsync("duplicate-json", "resend", ["POST /emails"], cap: 5);
        var many = string.Join(",", Enumerable.Range(0, 50).Select(i => $"u{i}@example.com"));
        var body = $$"""{"from":"a@example.com","to":"b@example.com","to":"{{many}}","subject":"s"}""";

        using var response = await PricedCall.SendAsync(Host, token, "POST", "/resend/emails", "application/json", Encoding.UTF8.GetBytes(body));

        await PricedCall.AssertUnpriceableAsync(Host, Vendor, id, response);
    }

    [Theory]
    [InlineData("/resend/emails", false, "Bcc")]           // JSON.parse keeps "Bcc"; KeyBrake counted only "to"
    [InlineData("/resend/emails/batch", true, "TO")]       // a batch item: RequestFields folds case for the root only
    [InlineData("/resend/emails/batch", true, "Subject")]  // any member repeated in another case, as at the root
    public async Task RecipientFieldsInAnotherCase_Are422(string path, bool batch, string name)
    {
        // 49 more addresses in a member KeyBrake did not count: priced as one email ($0.001) under a $1 cap.
        var (id, token) = await Host.CreateKeyAsync("case-recipients", "resend", ["POST /emails", "POST /emails/batch"], cap: 1);
        var many = string.Join(",", Enumerable.Range(0, 49).Select(i => $"\"u{i}@example.com\""));
        var email = $$"""{"from":"f@example.com","to":"a@example.com","subject":"s","{{name}}":[{{many}}]}""";

        using var response = await PricedCall.SendAsync(Host, token, "POST", path, "application/json", Encoding.UTF8.GetBytes(batch ? $"[{email}]" : email));

        await PricedCall.AssertUnpriceableAsync(Host, Vendor, id, response);
    }

    [Fact]
    public async Task CommaSeparatedRecipients_CountOnePerAddress()
    {
        // $0.001 an email: two addresses are $0.002, over a $0.001 cap; counted as one, it went through.
        var (id, token) = await Host.CreateKeyAsync("comma-recipients", "resend", ["POST /emails"], cap: 0.001m);
        var body = """{"from":"a@example.com","to":"b@example.com, c@example.com","subject":"s"}"""u8.ToArray();

        using var response = await PricedCall.SendAsync(Host, token, "POST", "/resend/emails", "application/json", body);

        await PricedCall.AssertOverCapAsync(Host, Vendor, id, response, 0.002m);
    }

    [Fact]
    public async Task QuotedDisplayNameHoldingAComma_Is422()
    {
        var (id, token) = await Host.CreateKeyAsync("quoted-recipient", "resend", ["POST /emails"], cap: 5);
        var body = """{"from":"a@example.com","to":"\"Doe, Jane\" <j@example.com>","subject":"s"}"""u8.ToArray();

        using var response = await PricedCall.SendAsync(Host, token, "POST", "/resend/emails", "application/json", body);

        await PricedCall.AssertUnpriceableAsync(Host, Vendor, id, response);
    }

    [Fact]
    public async Task MmsWithABody_IsPricedAsMms()
    {
        // An MMS is $0.02 whatever its body; priced as a one-segment SMS ($0.0083) it fitted a $0.01 cap.
        var (id, token) = await Host.CreateKeyAsync("mms-body", "twilio", ["POST /2010-04-01/Accounts/*/Messages.json"], cap: 0.01m);
        var body = "To=%2B15555550100&Body=look&MediaUrl=https%3A%2F%2Fexample.com%2Fa.png"u8.ToArray();

        using var response = await PricedCall.SendAsync(Host, token, "POST", Messages, Form, body);

        await PricedCall.AssertOverCapAsync(Host, Vendor, id, response, 0.02m);
    }

    [Fact]
    public async Task WellFormedBodies_StillGoThrough_ByteForByte()
    {
        var (id, token) = await Host.CreateKeyAsync("well-formed", "stripe", ["POST /v1/payment_intents"], cap: 10);
        const string body = "amount=500&currency=usd&expand[0]=customer&metadata[run]=447";

        using var response = await PricedCall.SendAsync(Host, token, "POST", "/stripe/v1/payment_intents", Form + "; charset=utf-8", Encoding.UTF8.GetBytes(body));
        await Host.AuditFlushedAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, Assert.Single(Vendor.Received).Body);
        Assert.Equal((5m, 0m), await PricedCall.SpendAsync(Host, id));
    }

    /// <summary>A valid gzip member of <paramref name="content"/> whose header carries <paramref name="comment"/> (FCOMMENT).</summary>
    private static byte[] GzipWithComment(string content, string comment)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(Encoding.ASCII.GetBytes(content));
        }
        var plain = buffer.ToArray();
        plain[3] |= 0x10; // FLG.FCOMMENT: a zero-terminated comment follows the 10-byte header
        return [.. plain.AsSpan(0, 10), .. Encoding.ASCII.GetBytes(comment), 0, .. plain.AsSpan(10)];
    }
}

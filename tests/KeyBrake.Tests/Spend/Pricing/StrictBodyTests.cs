using System.Text;
using KeyBrake.Spend.Pricing;

namespace KeyBrake.Tests.Spend.Pricing;

/// <summary>
/// SPEC §5 "one reading of a body": a priced body another parser could read differently is 422, never priced from
/// KeyBrake's guess. Each case is one the outside review sent, or a spelling of it.
/// </summary>
public sealed class StrictBodyTests
{
    private const string Form = "application/x-www-form-urlencoded";
    private const string Json = "application/json";
    private const string Messages = "/2010-04-01/Accounts/AC1/Messages.json";

    private static readonly Pricer Pricer = DefaultDenyTests.CreateSut();

    [Theory]
    [InlineData("amount=100&currency=usd&[amount]=99999999")]     // Rack reads [amount] as amount
    [InlineData("[amount]=99999999&currency=usd")]
    [InlineData("amount]=99999999&currency=usd")]
    [InlineData("amount[]=99999999&currency=usd")]
    [InlineData("amount[=1&currency=usd")]
    [InlineData("amount[x]]=1&amount=1&currency=usd")]
    [InlineData("amount[x][=1&amount=1&currency=usd")]
    [InlineData("=5&amount=1&currency=usd")]                       // empty key
    [InlineData("amount=100&currency=usd&%5Bamount%5D=99999999")]  // the same, percent-encoded
    [InlineData("amount=100&currency=usd&metadata[]=x")]
    public void FormKeys_NotNameOrNameSub_AreUnpriceable(string body)
    {
        Assert.Contains("not name or name[sub]", Stripe(body).Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("amount=100;amount=99999999&currency=usd")]
    [InlineData("amount=100&currency=usd;x=1")]
    public void Semicolons_InAFormBody_AreUnpriceable(string body)
    {
        Assert.Contains("';'", Stripe(body).Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Semicolons_InTheQuery_AreUnpriceable()
    {
        var price = Pricer.Price("stripe", "POST", "/v1/charges", Form, Encoding.UTF8.GetBytes("currency=usd"), "?x=1;amount=99999999");

        Assert.Contains("';'", price.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("amount=100&%61mount=99999999&currency=usd")]       // percent-encoded name
    [InlineData("amount=100&Amount=99999999&currency=usd")]         // another case
    [InlineData("amount=100&amount+=1&currency=usd", false)]        // "amount " is another name (not a repeat), priced from amount
    [InlineData("metadata[a]=1&metadata[a]=2&amount=1&currency=usd")]
    [InlineData("amount=100&currency=usd&currency=usd")]            // even the same value
    public void RepeatedFields_InAnySpelling_AreUnpriceable(string body, bool refused = true)
    {
        var price = Stripe(body);

        Assert.Equal(refused, price.Refusal?.Contains("more than once", StringComparison.Ordinal) == true);
    }

    [Theory]
    [InlineData("amount=1&amount[x]=2&currency=usd")]
    [InlineData("amount[x]=2&amount=1&currency=usd")]
    [InlineData("metadata=1&metadata[a]=2&amount=1&currency=usd")]
    [InlineData("a[b]=1&a[b][c]=2&amount=1&currency=usd")]
    [InlineData("amount=1&AMOUNT[x]=2&currency=usd")]
    public void NameAndNameSub_Together_AreUnpriceable(string body)
    {
        Assert.Contains("both as a value and as a parent", Stripe(body).Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("?amount=99999999", "amount=100&currency=usd")]
    [InlineData("?%61mount=99999999", "amount=100&currency=usd")]
    [InlineData("?Currency=eur", "amount=100&currency=usd")]
    public void QueryRepeatingABodyField_IsUnpriceable(string query, string body)
    {
        var price = Pricer.Price("stripe", "POST", "/v1/charges", Form, Encoding.UTF8.GetBytes(body), query);

        Assert.Contains("more than once", price.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("identity")]
    [InlineData("")]
    public void AnyContentEncoding_IsUnpriceable(string encoding)
    {
        var price = Pricer.Price("stripe", "POST", "/v1/charges", Form, Encoding.UTF8.GetBytes("amount=100&currency=usd"), null, encoding);

        Assert.Contains("Content-Encoding", price.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Form + "; charset=utf-16")]
    [InlineData(Form + "; charset=iso-8859-1")]
    [InlineData(Form + "; CHARSET = UTF-16")]
    [InlineData(Form + "; charset*=utf-16''")]
    [InlineData(Form + "; charset=utf-8; charset=utf-16")]
    [InlineData(Form + "; charset=utf-8; charset=utf-8")]
    [InlineData(Form + "; charset=")]
    public void CharsetsOtherThanUtf8_AreUnpriceable(string contentType)
    {
        var price = Pricer.Price("stripe", "POST", "/v1/charges", contentType, Encoding.UTF8.GetBytes("amount=100&currency=usd"), null);

        Assert.Contains("charset", price.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Form + "; charset=utf-8")]
    [InlineData(Form + "; charset=UTF-8")]
    [InlineData(Form + "; charset=\"utf-8\"")]
    [InlineData("Application/X-WWW-Form-Urlencoded")]
    public void Utf8Charsets_ArePriced(string contentType)
    {
        var price = Pricer.Price("stripe", "POST", "/v1/charges", contentType, Encoding.UTF8.GetBytes("amount=100&currency=usd"), null);

        Assert.Equal((1_000_000, null), (price.Estimate.Value, price.Refusal));
    }

    [Fact]
    public void Utf16Body_IsUnpriceable()
    {
        var price = Pricer.Price("twilio", "POST", Messages, Form, Encoding.Unicode.GetBytes("Body=hi"), null);

        Assert.NotNull(price.Refusal);
    }

    [Theory]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'B', (byte)'o', (byte)'d', (byte)'y', (byte)'=', (byte)'h' })] // a BOM
    [InlineData(new byte[] { (byte)'B', (byte)'o', (byte)'d', (byte)'y', (byte)'=', 0xC3 })]                      // a cut sequence
    public void BodiesThatAreNotUtf8_AreUnpriceable(byte[] body)
    {
        Assert.Contains("UTF-8", Pricer.Price("twilio", "POST", Messages, Form, body, null).Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Body=%ZZ")]                  // not hex
    [InlineData("Body=%C3")]                  // decodes to bytes that are not UTF-8
    [InlineData("Body=%")]
    [InlineData("Body=a b")]                  // a raw space
    [InlineData("Body=h\u00e9")]              // raw non-ASCII
    public void BadPercentEncoding_IsUnpriceable(string body)
    {
        Assert.NotNull(Pricer.Price("twilio", "POST", Messages, Form, Encoding.UTF8.GetBytes(body), null).Refusal);
    }

    [Theory]
    [InlineData("amount=+100&currency=usd")]
    [InlineData("amount=%2B100&currency=usd")]
    [InlineData("amount=100+&currency=usd")]
    [InlineData("amount=0100&currency=usd")]  // octal to some readers
    [InlineData("amount=1e2&currency=usd")]
    [InlineData("amount=%EF%BC%91&currency=usd")] // a full-width digit
    [InlineData("amount=100&currency=+usd")]
    [InlineData("amount=100&currency=usd+")]
    public void AmountsAndCurrencies_ReadOneWayOnly(string body)
    {
        Assert.NotNull(Stripe(body).Refusal);
    }

    [Theory]
    [InlineData("""{"to":"a@x.com","to":"b@x.com,c@x.com,d@x.com"}""")]
    [InlineData("""{"to":"a@x.com","headers":{"X-A":"1","X-A":"2"}}""")]          // at any depth
    [InlineData("""{"to":"a@x.com","tags":[{"name":"a","name":"b"}]}""")]
    [InlineData("""{"to":"a@x.com","\u0074o":"b@x.com,c@x.com"}""")]              // an escaped spelling
    [InlineData("""{"to":"a@x.com","To":"b@x.com,c@x.com"}""")]                   // another case
    public void JsonWithDuplicatedMembers_IsUnpriceable(string body)
    {
        Assert.NotNull(Pricer.Price("resend", "POST", "/emails", Json, Encoding.UTF8.GetBytes(body), null).Refusal);
    }

    [Fact]
    public void JsonAndAQueryNamingTheSameField_IsUnpriceable()
    {
        var price = Pricer.Price("resend", "POST", "/emails", Json, Encoding.UTF8.GetBytes("""{"to":"a@x.com"}"""), "?to=b%40x.com");

        Assert.Contains("more than once", price.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MediaUrl=https%3A%2F%2Fx%2Fa.png&Body=" + "a-long-caption-", 20_000)]        // an MMS with a body is an MMS
    [InlineData("MediaUrl=https%3A%2F%2Fx%2Fa.png&MediaUrl=https%3A%2F%2Fx%2Fb.png", 20_000)] // twilio-node repeats list parameters
    [InlineData("Body=hi&SendAsMms=true", 20_000)]
    [InlineData("Body=hi&SendAsMms=false", 8_300)]
    public void TwilioMms_IsPricedAsMms_WhateverTheBody(string body, long micros)
    {
        var price = Pricer.Price("twilio", "POST", Messages, Form, Encoding.UTF8.GetBytes(body.Replace("a-long-caption-", new string('a', 1500), StringComparison.Ordinal)), null);

        Assert.Equal((micros, null), (price.Estimate.Value, price.Refusal));
    }

    [Theory]
    [InlineData("Body=hi&ContentSid=HX1")]         // the template is sent, not the body
    [InlineData("Body=hi&SendAsMms=yes")]
    [InlineData("Body=hi&body=" + "long")]         // another case of the same name
    public void TwilioMessagesReadableTwoWays_AreUnpriceable(string body)
    {
        Assert.NotNull(Pricer.Price("twilio", "POST", Messages, Form, Encoding.UTF8.GetBytes(body), null).Refusal);
    }

    [Theory]
    [InlineData("""{"to":"a@x.com, b@y.com"}""", 2)]
    [InlineData("""{"to":"a@x.com,b@y.com,c@z.com","cc":["d@x.com, e@x.com"]}""", 5)]
    [InlineData("""{"to":"Jane <j@x.com>, Bob <b@x.com>"}""", 2)]
    [InlineData("""{"to":"\"Jane\" <j@x.com>"}""", 1)]
    [InlineData("""{"to":"\"Doe, Jane\" <j@x.com>"}""", -1)]   // a comma inside a quoted name: which split does the vendor use?
    [InlineData("""{"to":"Doe, Jane <j@x.com>"}""", -1)]
    [InlineData("""{"to":"a@x.com; b@x.com"}""", -1)]
    [InlineData("""{"to":"a@x.com b@x.com"}""", -1)]
    [InlineData("""{"to":"a@x.com,"}""", -1)]
    [InlineData("""{"to":"\ud800@x.com"}""", -1)]
    public void ResendRecipientStrings_CountOnePerAddress_OrAreUnpriceable(string body, int recipients)
    {
        var price = Pricer.Price("resend", "POST", "/emails", Json, Encoding.UTF8.GetBytes(body), null);

        Assert.Equal(recipients, price.Refusal is null ? (int)(price.Estimate.Value / 1_000) : -1);
    }

    [Fact]
    public void ResendBatch_CountsCommaSeparatedRecipients()
    {
        var price = Pricer.Price("resend", "POST", "/emails/batch", Json, Encoding.UTF8.GetBytes("""[{"to":"a@x.com,b@x.com"},{"to":["c@x.com"],"bcc":"d@x.com, e@x.com"}]"""), null);

        Assert.Equal((5_000, null), (price.Estimate.Value, price.Refusal));
    }

    [Theory]
    [InlineData("/emails", """{"to":"a@x.com","Bcc":["b@x.com","c@x.com"]}""")]     // JSON.parse keeps "Bcc"; a case-folding vendor reads bcc
    [InlineData("/emails", """{"To":"a@x.com"}""")]
    [InlineData("/emails", """{"to":"a@x.com","CC":"b@x.com"}""")]
    [InlineData("/emails/batch", """[{"to":"a@x.com","TO":["b@x.com","c@x.com"]}]""")]
    [InlineData("/emails/batch", """[{"to":"a@x.com"},{"to":"b@x.com","bCc":"c@x.com"}]""")]
    [InlineData("/emails/batch", """[{"To":"a@x.com"}]""")]
    public void ResendRecipientFields_InAnotherCase_AreUnpriceable(string path, string body)
    {
        var price = Pricer.Price("resend", "POST", path, Json, Encoding.UTF8.GetBytes(body), null);

        Assert.Contains("spelled", price.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/emails", """{"to":"a@x.com","TO":"b@x.com"}""")]                   // the root: RequestFields folds case
    [InlineData("/emails/batch", """[{"to":"a@x.com","subject":"s","Subject":"t"}]""")]
    [InlineData("/emails/batch", """[{"to":"a@x.com"},{"to":"b@x.com","from":"c@x.com","FROM":"d@x.com"}]""")]
    public void ResendEmails_WithAMemberRepeatedInAnotherCase_AreUnpriceable(string path, string body)
    {
        var price = Pricer.Price("resend", "POST", path, Json, Encoding.UTF8.GetBytes(body), null);

        Assert.Contains("more than once", price.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""[{"to":"a@x.com","to":"b@x.com,c@x.com"}]""")]                  // exact duplicates: refused by the parser at any depth
    [InlineData("""[{"to":"a@x.com","headers":{"X-A":"1","X-A":"2"}}]""")]
    public void ResendBatchItems_WithAnExactDuplicate_AreUnpriceable(string body)
    {
        var price = Pricer.Price("resend", "POST", "/emails/batch", Json, Encoding.UTF8.GetBytes(body), null);

        Assert.Contains("one way only", price.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void WellFormedBodies_FromTheRealClients_ArePriced()
    {
        // What stripe-node sends: indexed arrays and nested metadata.
        var stripe = Stripe("amount=500&currency=usd&expand[0]=customer&metadata[run]=447&payment_method_types[0]=card");
        // What twilio-node sends.
        var twilio = Pricer.Price("twilio", "POST", Messages, Form, Encoding.UTF8.GetBytes("To=%2B15555550100&From=%2B15555550199&Body=Your+code+is+123456"), null);

        Assert.Equal((5_000_000, null, 8_300L, null), (stripe.Estimate.Value, stripe.Refusal, twilio.Estimate.Value, twilio.Refusal));
    }

    private static Price Stripe(string body) => Pricer.Price("stripe", "POST", "/v1/charges", Form, Encoding.UTF8.GetBytes(body), null);
}

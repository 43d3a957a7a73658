using System.Text;
using KeyBrake.Spend.Pricing;
using KeyBrake.Vendors;
using KeyBrake.Vendors.Twilio;

namespace KeyBrake.Tests.Spend.Pricing;

/// <summary>SPEC §5, vendor by vendor, with the documented default prices and FX rates.</summary>
public sealed class PricerTests
{
    private const string Form = "application/x-www-form-urlencoded";
    private const string Json = "application/json";

    private static readonly Pricer Pricer = VendorProfiles.CreatePricer(new ConfigurationBuilder()
        .AddInMemoryCollection(KeyBrakeHostExtensions.Defaults).Build()
        .GetSection("KeyBrake:Pricing").Get<PricingOptions>()!);

    [Theory]
    [InlineData("POST", "/v1/payment_intents", "amount=500&currency=usd", 5_000_000, "usd")]
    [InlineData("POST", "/v1/payment_intents", "amount=500&currency=USD&metadata[run]=447", 5_000_000, "usd")]
    [InlineData("POST", "/v1/charges", "amount=1999&currency=eur", 21_989_000, "eur")]          // 19.99 × 1.10
    [InlineData("POST", "/v1/transfers", "amount=1000&currency=jpy", 7_000_000, "jpy")]         // zero-decimal: ¥1000 × 0.007
    [InlineData("POST", "/v1/payouts", "amount=1500&currency=kwd", 4_890_000, "kwd")]           // three-decimal: 1.500 KWD × 3.26
    [InlineData("POST", "/v1/topups", "amount=1&currency=eur", 11_000, "eur")]
    [InlineData("POST", "/v1/payment_intents", "amount=1&currency=vnd", 40, "vnd")]
    [InlineData("POST", "/v1/payment_intents", "amount=0&currency=usd", 0, "usd")]
    public void Stripe_MoneyMovingCreations_CostTheirAmountInUsd(string method, string path, string body, long micros, string currency)
    {
        var price = Price("stripe", method, path, Form, body);

        Assert.Null(price.Refusal);
        Assert.Equal((micros, currency), (price.Estimate.Value, price.Currency));
    }

    [Theory]
    [InlineData("GET", "/v1/payment_intents", "")]
    [InlineData("POST", "/v1/customers", "email=a%40example.com")]
    [InlineData("POST", "/v1/payment_intents/pi_1/cancel", "")]
    [InlineData("DELETE", "/v1/customers/cus_1", "")]
    public void Stripe_OtherCalls_CostNothing(string method, string path, string body)
    {
        var price = Price("stripe", method, path, Form, body);

        Assert.Equal((0L, null, null), (price.Estimate.Value, price.Refusal, price.Lookup));
    }

    [Theory]
    [InlineData("/v1/payment_intents/pi_1/confirm", "", "/v1/payment_intents/pi_1", "amount", null)]
    [InlineData("/v1/payment_intents/pi_1/capture", "amount_to_capture=700", "/v1/payment_intents/pi_1", "amount_capturable", 700L)]
    [InlineData("/v1/payment_intents/pi_1/increment_authorization", "amount=2500", "/v1/payment_intents/pi_1", "amount", 2500L)]
    [InlineData("/v1/charges/ch_1/capture", "", "/v1/charges/ch_1", "amount", null)]
    [InlineData("/v1/invoices/in_1/pay", "", "/v1/invoices/in_1", "amount_remaining", null)]
    [InlineData("/v1/refunds", "charge=ch_9", "/v1/charges/ch_9", "amount", null)]
    [InlineData("/v1/refunds", "payment_intent=pi_9&amount=300", "/v1/payment_intents/pi_9", "amount", 300L)]
    public void Stripe_AmountsKnownUpstream_NameTheObjectToLookUp(string path, string body, string lookup, string field, long? requestAmount)
    {
        var price = Price("stripe", "POST", path, Form, body);

        Assert.Null(price.Refusal);
        Assert.Equal(new UpstreamLookup(lookup, field, requestAmount), price.Lookup);
    }

    [Theory]
    [InlineData("currency=usd", "needs an 'amount'")]
    [InlineData("amount=-5&currency=usd", "non-negative integer")]
    [InlineData("amount=5.5&currency=usd", "non-negative integer")]
    [InlineData("amount=1e3&currency=usd", "non-negative integer")]
    [InlineData("amount=9999999999999&currency=usd", "non-negative integer")]
    [InlineData("amount=500&currency=xyz", "no configured FX rate")]
    [InlineData("amount=500", "and a 'currency'")]
    [InlineData("amount=500&amount=1&currency=usd", "more than once")]
    [InlineData("amount=500&currency=usd&currency=eur", "more than once")]
    public void Stripe_BadAmountsOrCurrencies_AreUnpriceable_NeverFree(string body, string why)
    {
        var price = Price("stripe", "POST", "/v1/payment_intents", Form, body);

        Assert.Contains(why, price.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Stripe_AmountInBothQueryAndBody_IsUnpriceable()
    {
        var price = Pricer.Price("stripe", "POST", "/v1/payment_intents", Form, Encoding.UTF8.GetBytes("amount=500&currency=usd"), "?amount=1");

        Assert.Contains("more than once", price.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Json, """{"amount":500,"currency":"usd"}""", "form-encoded")] // Stripe reads forms only: JSON would be a second reading
    [InlineData("text/plain", "amount=500&currency=usd", "form-encoded")]
    [InlineData(Json, "{broken", "does not parse")]
    public void Stripe_BodiesThatAreNotForms(string contentType, string body, string? why)
    {
        var price = Price("stripe", "POST", "/v1/charges", contentType, body);

        if (why is null)
        {
            Assert.Equal(5_000_000, price.Estimate.Value);
        }
        else
        {
            Assert.Contains(why, price.Refusal, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("refund without a target", "amount=100")]
    [InlineData("refund naming both", "charge=ch_1&payment_intent=pi_1")]
    [InlineData("refund with a bad id", "charge=ch%2F..")]
    public void Stripe_RefundsThatNameNoSingleObject_AreUnpriceable(string _, string body)
    {
        Assert.NotNull(Price("stripe", "POST", "/v1/refunds", Form, body).Refusal);
    }

    [Theory]
    [InlineData("Hello", 1, true)]
    [InlineData("", 1, true)]
    [InlineData(160, 1, true)]
    [InlineData(161, 2, true)]
    [InlineData(306, 2, true)]
    [InlineData(307, 3, true)]
    public void Sms_Gsm7Lengths(object body, int segments, bool gsm7)
    {
        var text = body as string ?? new string('a', (int)body);

        Assert.Equal((segments, gsm7), SmsSegments.Count(text));
    }

    [Fact]
    public void Sms_ExtensionCharactersCountTwo_AndAreNeverSplit()
    {
        Assert.Equal((1, true), SmsSegments.Count(new string('€', 80)));   // 160 septets
        Assert.Equal((2, true), SmsSegments.Count(new string('€', 81)));   // 162
        // 306 septets would fit 2 × 153, but the escape pair may not straddle two segments: it opens the second.
        Assert.Equal((3, true), SmsSegments.Count(new string('a', 152) + "€" + new string('a', 152)));
    }

    [Theory]
    [InlineData("Привет", 1)]
    [InlineData(70, 1)]
    [InlineData(71, 2)]
    [InlineData(134, 2)]
    [InlineData(135, 3)]
    public void Sms_Ucs2Lengths(object body, int segments)
    {
        var text = body as string ?? new string('Ж', (int)body);

        Assert.Equal((segments, false), SmsSegments.Count(text));
    }

    [Fact]
    public void Sms_OneCharacterOutsideGsm7_MakesTheWholeMessageUcs2()
    {
        var mixed = new string('a', 100) + "😀";  // 100 GSM characters and an emoji (a surrogate pair)

        Assert.Equal((2, false), SmsSegments.Count(mixed)); // 102 UTF-16 units, not 101 septets in one segment
    }

    [Theory]
    [InlineData("To=%2B15555550100&From=%2B15555550199&Body=Your+code+is+123456", 8_300)]
    [InlineData("To=%2B15555550100&Body=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82", 8_300)]
    [InlineData("To=%2B15555550100&MediaUrl=https%3A%2F%2Fexample.com%2Fa.png", 20_000)]
    public void Twilio_Messages_SegmentsTimesPrice(string body, long micros)
    {
        var price = Price("twilio", "POST", "/2010-04-01/Accounts/AC1/Messages.json", Form, body);

        Assert.Null(price.Refusal);
        Assert.Equal(micros, price.Estimate.Value);
    }

    [Fact]
    public void Twilio_LongMixedMessage_IsPricedAsUcs2Segments()
    {
        var body = "Body=" + Uri.EscapeDataString(new string('a', 100) + "é€Ж"); // Ж forces UCS-2: 103 units, 2 segments

        Assert.Equal(2 * 8_300, Price("twilio", "POST", "/2010-04-01/Accounts/AC1/Messages.json", Form, body).Estimate.Value);
    }

    [Theory]
    [InlineData("POST", "/2010-04-01/Accounts/AC1/Calls.json", 500_000)]
    [InlineData("POST", "/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json", 1_150_000)]
    [InlineData("GET", "/2010-04-01/Accounts/AC1/Messages.json", 0)]
    [InlineData("POST", "/2010-04-01/Accounts/AC1/Messages/SM1.json", 0)]
    public void Twilio_CallsNumbersAndReads(string method, string path, long micros)
    {
        Assert.Equal(micros, Price("twilio", method, path, Form, "To=%2B15555550100").Estimate.Value);
    }

    [Theory]
    [InlineData("To=%2B15555550100&ContentSid=HX1", "template")]
    [InlineData("Body=a&Body=b", "more than once")]
    public void Twilio_MessagesThatCannotBePriced(string body, string why)
    {
        Assert.Contains(why, Price("twilio", "POST", "/2010-04-01/Accounts/AC1/Messages.json", Form, body).Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/emails", """{"from":"a@x.com","to":"b@x.com","subject":"s"}""", 1_000)]
    [InlineData("/emails", """{"to":["b@x.com","c@x.com"],"cc":"d@x.com","bcc":["e@x.com"]}""", 4_000)]
    [InlineData("/emails/batch", """[{"to":"a@x.com"},{"to":["b@x.com","c@x.com"],"cc":null}]""", 3_000)]
    public void Resend_OneEmailPerRecipient(string path, string body, long micros)
    {
        var price = Price("resend", "POST", path, Json, body);

        Assert.Null(price.Refusal);
        Assert.Equal(micros, price.Estimate.Value);
    }

    [Theory]
    [InlineData("/emails", """{"subject":"no recipients"}""", "at least one recipient")]
    [InlineData("/emails", """{"to":42}""", "at least one recipient")]
    [InlineData("/emails", "to=a@x.com", "JSON body")]
    [InlineData("/emails/batch", "[]", "1-100")]
    [InlineData("/emails/batch", """{"to":"a@x.com"}""", "JSON array")]
    public void Resend_EmailsThatCannotBePriced(string path, string body, string why)
    {
        var contentType = body.StartsWith('{') || body.StartsWith('[') ? Json : Form;

        Assert.Contains(why, Price("resend", "POST", path, contentType, body).Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Resend_BatchOver100_IsUnpriceable()
    {
        var body = "[" + string.Join(',', Enumerable.Repeat("""{"to":"a@x.com"}""", 101)) + "]";

        Assert.Contains("not 101", Price("resend", "POST", "/emails/batch", Json, body).Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", null)]
    [InlineData("POST", "no pricing for vendor")]
    public void UnknownVendor_ReadsOnly(string method, string? why)
    {
        var price = Price("acme", method, "/v1/things", Json, "{}");

        Assert.Equal(why is null, price.Refusal is null);
    }

    private static Price Price(string vendor, string method, string path, string contentType, string body) =>
        Pricer.Price(vendor, method, path, contentType, Encoding.UTF8.GetBytes(body), null);
}

using System.Text;
using System.Text.Json;
using KeyBrake.Audit;
using KeyBrake.Proxy;
using Microsoft.AspNetCore.Http;

namespace KeyBrake.Tests.Audit;

public sealed class AuditDetailsTests
{
    [Theory]
    [InlineData("jane@example.com", "j***@example.com")]
    [InlineData("Jane Doe <jane@example.com>", "j***@example.com")]
    [InlineData("+15555550100", "+1******0100")]
    [InlineData("+442071838750", "+4*******8750")]
    [InlineData("whatsapp:+15555550100", "whatsapp:+1******0100")]
    [InlineData("12345", "*****")]
    [InlineData("messenger:+15555550100", "messenger:+1******0100")]
    [InlineData("WhatsApp:+15555550100", "whatsapp:+1******0100")]
    [InlineData("+1 (555) 555-0100", "+1***********0100")]
    public void Mask_KeepsOnlyWhatIdentifiesNobody(string recipient, string masked) =>
        Assert.Equal(masked, Recipients.Mask(recipient));

    [Fact]
    public void FromRequest_TwilioForm_AmountAndRecipientsMasked_BodyNotKept()
    {
        var details = Details("application/x-www-form-urlencoded", "To=%2B15555550100&From=%2B15555550199&Body=Your+code+is+123456");

        Assert.Equal("""{"recipients":["+1******0100"]}""", details);
    }

    [Fact]
    public void FromRequest_StripeForm_AmountAndCurrency()
    {
        Assert.Equal("""{"amount_minor":500,"currency":"usd"}""", Details("application/x-www-form-urlencoded; charset=utf-8", "amount=500&currency=USD&description=secret+stuff"));
    }

    [Fact]
    public void FromRequest_ResendBatch_EveryRecipientOfEveryItem()
    {
        var details = Details("application/json", """[{"to":["a@x.com","b@x.com"],"cc":"c@x.com","subject":"s"},{"to":"d@y.org","bcc":["e@y.org"]}]""");

        Assert.Equal("""{"batch_items":2,"recipients":["a***@x.com","b***@x.com","c***@x.com","d***@y.org","e***@y.org"]}""", details);
    }

    [Fact]
    public void FromRequest_UnparseableOrEmptyBody_GivesNoDetails()
    {
        Assert.Null(Details("application/json", "{not json"));
        Assert.Null(Details("application/json", ""));
        Assert.Null(Details("text/plain", "to=a@x.com"));
    }

    [Fact]
    public void Details_NumbersJcsCannotCarryExactly_BecomeTheirText()
    {
        using var metadata = JsonDocument.Parse("""{"ratio":0.5,"big":12345678901234567890,"ok":42,"nested":[1.0,2]}""");

        var json = KeyBrake.Audit.Details.Object(d => d.Add("metadata", metadata.RootElement).Add("cap", 5_000_000L));

        Assert.Equal("""{"cap":5000000,"metadata":{"big":"12345678901234567890","nested":["1.0",2],"ok":42,"ratio":"0.5"}}""", json);
    }

    [Fact]
    public void ReadFields_ParsesTheBodyOnce_ForPricingAndDetailsAlike()
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/x-www-form-urlencoded";
        var call = new ProxyCall("stripe", "/v1/charges", "req_1") { Body = Encoding.UTF8.GetBytes("amount=500&currency=usd") };

        var first = call.ReadFields(context.Request).Fields;
        CallDetails.FromRequest(context.Request, call);

        Assert.Same(first, call.ReadFields(context.Request).Fields);
    }

    internal static string? Details(string contentType, string body)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentType = contentType;
        var call = new ProxyCall("twilio", "/x", "req_1") { Body = Encoding.UTF8.GetBytes(body) };
        return CallDetails.FromRequest(context.Request, call);
    }
}

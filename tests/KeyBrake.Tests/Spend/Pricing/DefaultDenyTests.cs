using System.Text;
using KeyBrake.Spend.Pricing;
using KeyBrake.Vendors;

namespace KeyBrake.Tests.Spend.Pricing;

/// <summary>
/// SPEC §5 default deny: per vendor, the writes KeyBrake prices, the writes it knows cost nothing, and everything
/// else 422 until an operator lists it in <c>KeyBrake:Pricing:{vendor}:FreeWrites</c>. Paths match whole, never by suffix.
/// </summary>
public sealed class DefaultDenyTests
{
    private const string Form = "application/x-www-form-urlencoded";
    private const string Twilio = "/2010-04-01/Accounts/AC1";

    private static readonly Pricer Pricer = CreateSut();

    [Theory]
    [InlineData("stripe", "POST", "/v1/payment_intents", "amount=100&currency=usd", 1_000_000)]
    [InlineData("stripe", "POST", "/v1/charges", "amount=100&currency=usd", 1_000_000)]
    [InlineData("stripe", "POST", "/v1/transfers", "amount=100&currency=usd", 1_000_000)]
    [InlineData("stripe", "POST", "/v1/payouts", "amount=100&currency=usd", 1_000_000)]
    [InlineData("stripe", "POST", "/v1/topups", "amount=100&currency=usd", 1_000_000)]
    [InlineData("twilio", "POST", Twilio + "/Messages.json", "Body=hi", 8_300)]
    [InlineData("twilio", "POST", Twilio + "/Calls.json", "To=%2B1555&Url=https%3A%2F%2Fx", 500_000)]
    [InlineData("twilio", "POST", Twilio + "/IncomingPhoneNumbers.json", "PhoneNumber=%2B1555", 1_150_000)]
    [InlineData("twilio", "POST", Twilio + "/IncomingPhoneNumbers/Local.json", "PhoneNumber=%2B1555", 1_150_000)]
    public void PricedWrites_CostTheirRule(string vendor, string method, string path, string body, long micros)
    {
        var price = Price(vendor, method, path, body);

        Assert.Equal((micros, null), (price.Estimate.Value, price.Refusal));
    }

    [Theory]
    // Stripe: the writes SPEC names (customers, products, prices) and the few others that cannot move money.
    [InlineData("stripe", "POST", "/v1/customers")]
    [InlineData("stripe", "POST", "/v1/customers/cus_1")]
    [InlineData("stripe", "DELETE", "/v1/customers/cus_1")]
    [InlineData("stripe", "POST", "/v1/customers/cus_1/sources")]
    [InlineData("stripe", "DELETE", "/v1/customers/cus_1/tax_ids/txi_1")]
    [InlineData("stripe", "POST", "/v1/products")]
    [InlineData("stripe", "POST", "/v1/prices/price_1")]
    [InlineData("stripe", "POST", "/v1/payment_methods/pm_1/attach")]
    [InlineData("stripe", "POST", "/v1/setup_intents/seti_1/confirm")]
    [InlineData("stripe", "POST", "/v1/payment_intents/pi_1/cancel")]
    [InlineData("stripe", "POST", "/v1/refunds/re_1/cancel")]
    // Twilio: redaction / cancel of a message, deleting records.
    [InlineData("twilio", "POST", Twilio + "/Messages/SM1.json")]
    [InlineData("twilio", "DELETE", Twilio + "/Messages/SM1.json")]
    [InlineData("twilio", "DELETE", Twilio + "/Messages/SM1/Media/ME1.json")]
    [InlineData("twilio", "DELETE", Twilio + "/Calls/CA1.json")]
    // Resend: reschedule and cancel a scheduled email.
    [InlineData("resend", "PATCH", "/emails/49a3999c")]
    [InlineData("resend", "POST", "/emails/49a3999c/cancel")]
    // Reads cost nothing on any path, known or not.
    [InlineData("stripe", "GET", "/v1/anything/new")]
    [InlineData("twilio", "HEAD", Twilio + "/Messages")]
    [InlineData("resend", "OPTIONS", "/broadcasts")]
    [InlineData("acme", "GET", "/v1/things")]
    public void KnownFreeWritesAndReads_CostNothing(string vendor, string method, string path)
    {
        var price = Price(vendor, method, path, "");

        Assert.Equal((0L, null, null), (price.Estimate.Value, price.Refusal, price.Lookup));
    }

    [Theory]
    // The review's findings: suffix matching made these $0.
    [InlineData("twilio", "POST", Twilio + "/Messages")]
    [InlineData("twilio", "POST", Twilio + "/Messages.xml")]
    [InlineData("twilio", "POST", Twilio + "/messages.json")]
    [InlineData("twilio", "POST", Twilio + "/Calls")]
    [InlineData("twilio", "POST", Twilio + "/IncomingPhoneNumbers")]
    [InlineData("twilio", "POST", Twilio + "/IncomingPhoneNumbers/TollFree.json")]
    [InlineData("twilio", "POST", Twilio + "/IncomingPhoneNumbers/Mobile.json")]
    [InlineData("twilio", "POST", "/x/Messages.json")]
    [InlineData("twilio", "POST", Twilio + "/Calls/CA1.json")]                  // a redirect can dial out
    [InlineData("twilio", "POST", Twilio + "/Messages/SM1/Feedback/x.json")]
    [InlineData("stripe", "POST", "/v1/charges/ch_1/refunds")]
    [InlineData("stripe", "POST", "/v1/charges/ch_1/refund")]
    [InlineData("stripe", "POST", "/v1/subscriptions")]
    [InlineData("stripe", "DELETE", "/v1/subscriptions/sub_1")]                   // invoice_now can charge
    [InlineData("stripe", "POST", "/v1/invoices")]
    [InlineData("stripe", "POST", "/v1/invoices/in_1/finalize")]
    [InlineData("stripe", "POST", "/v1/invoiceitems")]
    [InlineData("stripe", "POST", "/v1/checkout/sessions")]
    [InlineData("stripe", "POST", "/v1/payment_links")]
    [InlineData("stripe", "POST", "/v1/payment_intents/pi_1")]                    // update: races a confirm's lookup
    [InlineData("stripe", "POST", "/v1/payment_intents/pi_1/apply_customer_balance")]
    [InlineData("stripe", "POST", "/v1/customers/cus_1/balance_transactions")]   // a free row's * is one segment
    [InlineData("stripe", "PUT", "/v1/charges")]
    [InlineData("stripe", "POST", "/v1/Charges")]
    [InlineData("stripe", "POST", "/v2/charges")]
    [InlineData("resend", "POST", "/broadcasts")]
    [InlineData("resend", "POST", "/broadcasts/b_1/send")]
    [InlineData("resend", "POST", "/api-keys")]
    [InlineData("resend", "POST", "/audiences/a_1/contacts")]
    [InlineData("resend", "PUT", "/emails")]
    [InlineData("resend", "POST", "/Emails")]
    [InlineData("acme", "POST", "/v1/things")]
    public void WritesInNoTable_AreUnpriceable_NeverFree(string vendor, string method, string path)
    {
        var price = Price(vendor, method, path, "Body=" + new string('a', 1500));

        Assert.NotNull(price.Refusal);
        Assert.Equal(0, price.Estimate.Value);
    }

    [Theory]
    [InlineData("Post")]
    [InlineData("post")]
    [InlineData("get")]
    [InlineData("Get")]
    [InlineData("GET ")]
    [InlineData("PROPFIND")]
    public void NonCanonicalMethods_AreNeverReads(string method)
    {
        foreach (var (vendor, path) in new[] { ("stripe", "/v1/charges"), ("stripe", "/v1/customers"), ("twilio", Twilio + "/Messages.json"), ("resend", "/emails") })
        {
            Assert.Contains("spelled exactly", Price(vendor, method, path, "amount=99999999&currency=usd").Refusal, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void UnknownWrite_SaysWhereAnOperatorListsIt()
    {
        var price = Price("resend", "POST", "/broadcasts/b_1/send", "");

        Assert.Contains("KeyBrake:Pricing:resend:FreeWrites", price.Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("stripe", "POST", "/v1/subscriptions", true)]
    [InlineData("stripe", "POST", "/v1/subscription_items/si_1/x", true)]      // a last * is one or more segments (SPEC §4 step 5)
    [InlineData("stripe", "PATCH", "/v1/subscriptions", false)]                // the pattern names POST
    [InlineData("stripe", "POST", "/v1/charges", false)]                       // a priced path stays priced
    [InlineData("twilio", "POST", Twilio + "/Queues.json", true)]
    [InlineData("twilio", "DELETE", Twilio + "/Queues/QU1.json", true)]       // method-less: any write
    [InlineData("resend", "POST", "/broadcasts", false)]                       // not listed
    public void OperatorFreeWrites_MakeListedWritesFree_AndNothingElse(string vendor, string method, string path, bool free)
    {
        var pricer = CreateSut(new()
        {
            ["KeyBrake:Pricing:stripe:FreeWrites:0"] = "POST /v1/subscriptions",
            ["KeyBrake:Pricing:stripe:FreeWrites:1"] = "POST /v1/subscription_items/*",
            ["KeyBrake:Pricing:stripe:FreeWrites:2"] = "POST /v1/charges",
            ["KeyBrake:Pricing:twilio:FreeWrites:0"] = "POST /2010-04-01/Accounts/*/Queues.json",
            ["KeyBrake:Pricing:Twilio:FreeWrites:1"] = "/2010-04-01/Accounts/*/Queues/*",
        });

        var price = pricer.Price(vendor, method, path, Form, Encoding.UTF8.GetBytes("amount=100&currency=usd"), null);

        Assert.Equal(free, price.Refusal is null && price.Estimate.Value == 0);
        if (path == "/v1/charges")
        {
            Assert.Equal(1_000_000, price.Estimate.Value);
        }
    }

    [Fact]
    public void FreeWrites_BindFromConfiguration_AsTheyAreSpelledInTheReadme()
    {
        var options = Options(new() { ["KeyBrake:Pricing:resend:FreeWrites:0"] = "POST /broadcasts" });

        Assert.Equal(["POST /broadcasts"], options.Resend.FreeWrites);
        Assert.Empty(options.Stripe.FreeWrites);
    }

    internal static Pricer CreateSut(Dictionary<string, string?>? settings = null) => VendorProfiles.CreatePricer(Options(settings));

    private static PricingOptions Options(Dictionary<string, string?>? settings) => new ConfigurationBuilder()
        .AddInMemoryCollection(KeyBrakeHostExtensions.Defaults)
        .AddInMemoryCollection(settings ?? [])
        .Build()
        .GetSection("KeyBrake:Pricing").Get<PricingOptions>()!;

    private static Price Price(string vendor, string method, string path, string body) =>
        Pricer.Price(vendor, method, path, Form, Encoding.UTF8.GetBytes(body), null);
}

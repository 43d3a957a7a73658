using KeyBrake.Policy;

namespace KeyBrake.Tests.Policy;

public sealed class EndpointPatternTests
{
    [Theory]
    // no method: any method
    [InlineData("/v1/payment_intents", "GET", "/v1/payment_intents", true)]
    [InlineData("/v1/payment_intents", "DELETE", "/v1/payment_intents", true)]
    // method must match exactly
    [InlineData("POST /v1/payment_intents", "POST", "/v1/payment_intents", true)]
    [InlineData("POST /v1/payment_intents", "GET", "/v1/payment_intents", false)]
    [InlineData("POST /v1/payment_intents", "post", "/v1/payment_intents", false)]
    // literal segments are case-sensitive and whole
    [InlineData("GET /v1/customers", "GET", "/v1/Customers", false)]
    [InlineData("GET /v1/customers", "GET", "/v1/customers_x", false)]
    [InlineData("GET /v1/customers", "GET", "/v1/customers/cus_1", false)]
    [InlineData("GET /v1/customers/cus_1", "GET", "/v1/customers", false)]
    // a last * matches one or more segments
    [InlineData("GET /v1/customers/*", "GET", "/v1/customers/cus_1", true)]
    [InlineData("GET /v1/customers/*", "GET", "/v1/customers/cus_1/sources/src_2", true)]
    [InlineData("GET /v1/customers/*", "GET", "/v1/customers", false)]
    [InlineData("GET /v1/customers/*", "GET", "/v1/customersx/cus_1", false)]
    // a * elsewhere matches exactly one segment
    [InlineData("POST /v1/payment_intents/*/confirm", "POST", "/v1/payment_intents/pi_1/confirm", true)]
    [InlineData("POST /v1/payment_intents/*/confirm", "POST", "/v1/payment_intents/pi_1/x/confirm", false)]
    [InlineData("POST /v1/payment_intents/*/confirm", "POST", "/v1/payment_intents/confirm", false)]
    [InlineData("POST /v1/payment_intents/*/confirm", "POST", "/v1/payment_intents/pi_1/confirm/x", false)]
    [InlineData("POST /2010-04-01/Accounts/*/Messages.json", "POST", "/2010-04-01/Accounts/AC1/Messages.json", true)]
    [InlineData("POST /2010-04-01/Accounts/*/Messages.json", "POST", "/2010-04-01/Accounts/AC1/Calls.json", false)]
    [InlineData("/*", "GET", "/anything/at/all", true)]
    public void Matches_Table(string pattern, string method, string path, bool expected)
    {
        Assert.True(EndpointPattern.TryParse(pattern, out var parsed, out var error), error);
        Assert.Equal(expected, parsed!.Matches(method, path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("GET")]
    [InlineData("GET v1/x")]
    [InlineData("get /v1/x")]
    [InlineData("FETCH /v1/x")]
    [InlineData("GET  /v1/x")]
    [InlineData("GET /v1/../x")]
    [InlineData("GET /v1/x/")]
    [InlineData("GET /v1/x*")]
    [InlineData("GET /v1/%2e")]
    [InlineData("GET /v1/x?limit=3")]
    public void TryParse_Invalid_IsRefusedWithAReason(string pattern)
    {
        Assert.False(EndpointPattern.TryParse(pattern, out var parsed, out var error));
        Assert.Null(parsed);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void EndpointPolicy_DeniesByDefault_AndReportsTheFirstMatch()
    {
        var policy = EndpointPolicy.FromValidated(["GET /v1/customers/*", "/v1/customers/*"]);

        Assert.Equal("GET /v1/customers/*", policy.Match("GET", "/v1/customers/c")!.Text);
        Assert.Equal("/v1/customers/*", policy.Match("POST", "/v1/customers/c")!.Text);
        Assert.Null(policy.Match("GET", "/v1/charges"));
        Assert.Null(EndpointPolicy.FromValidated([]).Match("GET", "/v1/x"));
    }
}

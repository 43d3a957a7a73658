using System.Text.Json;
using KeyBrake.Keys;

namespace KeyBrake.Tests.Keys;

public sealed class KeyRequestsTests
{
    private static readonly DateTimeOffset Created = new(2026, 6, 3, 9, 0, 0, TimeSpan.Zero);

    private static readonly VaultKey Current = new()
    {
        Id = "key_1", TokenHash = "h", Label = "run-1", Vendor = "stripe", Endpoints = KeyBrake.Policy.EndpointPolicy.FromValidated(["GET /v1/x"]),
        DailyCapMicros = 1, ExpiresAt = Created.AddHours(1), CreatedAt = Created, CreatedBy = "principal:test", MetadataJson = "{}", PolicyHash = "p",
    };

    [Theory]
    [InlineData("2026-06-04T09:00:00Z", "2026-06-04T09:00:00.000Z")]
    [InlineData("2026-06-04T09:00:00.1234Z", "2026-06-04T09:00:00.123Z")]
    [InlineData("2026-06-04T04:00:00-05:00", "2026-06-04T09:00:00.000Z")]
    [InlineData("2026-06-04T11:00:00+02:00", "2026-06-04T09:00:00.000Z")]
    public void ParsePatch_ExpiresAtWithAZone_IsUtcToTheMillisecond(string text, string expected)
    {
        var errors = new List<FieldError>();
        var patch = KeyRequests.ParsePatch(Json($$"""{"expires_at":"{{text}}","justification":"j"}"""), Current, TimeSpan.FromDays(7), errors);

        Assert.Empty(errors);
        Assert.Equal(expected, KeyBrake.Storage.Timestamps.ToText(patch!.ExpiresAt!.Value));
    }

    [Theory]
    [InlineData("2026-06-04T09:00:00")]
    [InlineData("2026-06-04")]
    [InlineData("tomorrow")]
    [InlineData("2026-06-10T09:00:00.001Z")]
    public void ParsePatch_ExpiresAtWithoutZoneOrPastMaxTtl_IsRefused(string text)
    {
        var errors = new List<FieldError>();

        Assert.Null(KeyRequests.ParsePatch(Json($$"""{"expires_at":"{{text}}","justification":"j"}"""), Current, TimeSpan.FromDays(7), errors));
        Assert.Contains(errors, e => e.Field == "expires_at");
    }

    [Fact]
    public void ParsePatch_NothingToChange_IsRefused()
    {
        var errors = new List<FieldError>();

        Assert.Null(KeyRequests.ParsePatch(Json("""{"justification":"j"}"""), Current, TimeSpan.FromDays(7), errors));
        Assert.Contains(errors, e => e.Field == "body");
    }

    [Fact]
    public void ParseCreate_Valid_KeepsMetadataCompactAndDefaultsTheTtl()
    {
        var errors = new List<FieldError>();
        var key = KeyRequests.ParseCreate(
            Json("""{ "label":"run-1", "vendor":"stripe", "allowed_endpoints":["GET /v1/x"], "daily_usd_cap":0.5, "metadata": { "a" : "b", "n": 3 } }"""),
            ["stripe"], TimeSpan.FromDays(7), TimeSpan.FromHours(1), errors);

        Assert.Empty(errors);
        Assert.Equal(500_000, key!.DailyCap.Value);
        Assert.Equal(TimeSpan.FromHours(1), key.ExpiresIn);
        Assert.Equal("""{"a":"b","n":3}""", key.MetadataJson);
    }

    [Fact]
    public void ParseCreate_StripeAccounts_AreKeptInTheOrderGiven_AndAbsentIsNone()
    {
        var errors = new List<FieldError>();
        var key = KeyRequests.ParseCreate(
            Json("""{ "label":"run-1", "vendor":"stripe", "allowed_endpoints":["GET /v1/x"], "daily_usd_cap":1, "stripe_accounts":["acct_1Zb","acct_0Aa"] }"""),
            ["stripe"], TimeSpan.FromDays(7), TimeSpan.FromHours(1), errors);
        var none = KeyRequests.ParseCreate(
            Json("""{ "label":"run-1", "vendor":"stripe", "allowed_endpoints":["GET /v1/x"], "daily_usd_cap":1 }"""),
            ["stripe"], TimeSpan.FromDays(7), TimeSpan.FromHours(1), errors);

        Assert.Empty(errors);
        Assert.Equal(["acct_1Zb", "acct_0Aa"], key!.StripeAccounts);
        Assert.Empty(none!.StripeAccounts);
    }

    [Theory]
    [InlineData("""["acct_1","acct_1"]""", "stripe_accounts[1]")]               // a duplicate
    [InlineData("""["acct_1","cus_1"]""", "stripe_accounts[1]")]                // not an account id
    [InlineData("""["acct_"]""", "stripe_accounts[0]")]
    [InlineData("""["acct_1\n"]""", "stripe_accounts[0]")]                      // $ would have let a final newline through
    [InlineData("""["acct_a-b"]""", "stripe_accounts[0]")]
    [InlineData("""[7]""", "stripe_accounts[0]")]
    [InlineData("\"acct_1\"", "stripe_accounts")]                              // not a list
    public void ParseCreate_BadStripeAccounts_NameTheField(string accounts, string field)
    {
        var errors = new List<FieldError>();

        Assert.Null(KeyRequests.ParseCreate(
            Json($$"""{ "label":"run-1", "vendor":"stripe", "allowed_endpoints":["GET /v1/x"], "daily_usd_cap":1, "stripe_accounts":{{accounts}} }"""),
            ["stripe"], TimeSpan.FromDays(7), TimeSpan.FromHours(1), errors));
        Assert.Equal(field, Assert.Single(errors).Field);
    }

    [Fact]
    public void ParseCreate_MoreStripeAccountsThanTheMax_IsRefused()
    {
        var errors = new List<FieldError>();
        var accounts = JsonSerializer.Serialize(Enumerable.Range(0, KeyRequests.MaxStripeAccounts + 1).Select(i => "acct_" + i));

        Assert.Null(KeyRequests.ParseCreate(
            Json($$"""{ "label":"run-1", "vendor":"stripe", "allowed_endpoints":["GET /v1/x"], "daily_usd_cap":1, "stripe_accounts":{{accounts}} }"""),
            ["stripe"], TimeSpan.FromDays(7), TimeSpan.FromHours(1), errors));
        Assert.Equal("stripe_accounts", Assert.Single(errors).Field);
    }

    [Theory]
    [InlineData("""["acct_1"]""")]
    [InlineData("[]")]
    public void ParseCreateAndPatch_StripeAccountsOnANonStripeKey_AreRefused(string accounts)
    {
        var errors = new List<FieldError>();

        Assert.Null(KeyRequests.ParseCreate(
            Json($$"""{ "label":"run-1", "vendor":"twilio", "allowed_endpoints":["GET /x"], "daily_usd_cap":1, "stripe_accounts":{{accounts}} }"""),
            ["stripe", "twilio"], TimeSpan.FromDays(7), TimeSpan.FromHours(1), errors));
        Assert.Null(KeyRequests.ParsePatch(Json($$"""{ "stripe_accounts":{{accounts}}, "justification":"j" }"""), Current with { Vendor = "twilio" }, TimeSpan.FromDays(7), errors));
        Assert.Equal(["stripe_accounts", "stripe_accounts"], errors.Select(e => e.Field));
    }

    [Fact]
    public void ParsePatch_EmptyStripeAccounts_ClearsTheList_AndAbsentLeavesIt()
    {
        var errors = new List<FieldError>();

        var cleared = KeyRequests.ParsePatch(Json("""{ "stripe_accounts":[], "justification":"j" }"""), Current, TimeSpan.FromDays(7), errors);
        var untouched = KeyRequests.ParsePatch(Json("""{ "daily_usd_cap":2, "justification":"j" }"""), Current, TimeSpan.FromDays(7), errors);

        Assert.Empty(errors);
        Assert.Empty(cleared!.StripeAccounts!);
        Assert.Null(untouched!.StripeAccounts);
    }

    [Fact]
    public void ParseCreate_LabelWithAFinalNewline_IsRefused()
    {
        var errors = new List<FieldError>();

        Assert.Null(KeyRequests.ParseCreate(
            Json("""{ "label":"run-1\n", "vendor":"stripe", "allowed_endpoints":["GET /v1/x"], "daily_usd_cap":1 }"""),
            ["stripe"], TimeSpan.FromDays(7), TimeSpan.FromHours(1), errors));
        Assert.Equal("label", Assert.Single(errors).Field);
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}

using KeyBrake.Keys;
using KeyBrake.Policy;
using KeyBrake.Vendors.Stripe;
using Microsoft.AspNetCore.Http;

namespace KeyBrake.Tests.Vendors.Stripe;

public sealed class StripeAccountHeaderTests
{
    private static VaultKey Key(params string[] accounts) => new()
    {
        Id = "key_1", TokenHash = "h", Label = "run-1", Vendor = "stripe",
        Endpoints = EndpointPolicy.FromValidated(["/v1/charges"]), DailyCapMicros = 0,
        ExpiresAt = DateTimeOffset.MaxValue, CreatedAt = DateTimeOffset.UnixEpoch, CreatedBy = "test", MetadataJson = "{}", PolicyHash = "h",
        StripeAccounts = accounts,
    };

    [Fact]
    public void Check_NoHeader_Passes_WithOrWithoutAList()
    {
        Assert.Null(StripeAccountHeader.Check(new HeaderDictionary(), Key()));
        Assert.Null(StripeAccountHeader.Check(new HeaderDictionary(), Key("acct_1")));
    }

    [Theory]
    [InlineData("acct_1", true)]
    [InlineData("acct_2", true)]
    [InlineData("acct_3", false)]
    [InlineData("ACCT_1", false)]
    [InlineData(" acct_1", false)]
    [InlineData("acct_1,acct_2", false)]
    [InlineData("", false)]
    public void Check_ListedAccount_Passes_AnythingElseIs403(string header, bool allowed)
    {
        var headers = new HeaderDictionary { ["Stripe-Account"] = header };

        var error = StripeAccountHeader.Check(headers, Key("acct_1", "acct_2"));

        Assert.Equal(allowed, error is null);
        if (!allowed)
        {
            Assert.Equal((403, "stripe_account_not_allowed"), (error!.Status, error.Code));
        }
    }

    [Fact]
    public void Check_AKeyWithoutAList_MayNameNoAccount()
    {
        var error = StripeAccountHeader.Check(new HeaderDictionary { ["stripe-account"] = "acct_1" }, Key());

        Assert.Equal("stripe_account_not_allowed", error?.Code);
    }

    [Fact]
    public void Check_TwoHeaderValues_Is403_EvenIfBothAreListed()
    {
        var headers = new HeaderDictionary { ["Stripe-Account"] = new(["acct_1", "acct_2"]) };

        Assert.Equal("stripe_account_not_allowed", StripeAccountHeader.Check(headers, Key("acct_1", "acct_2"))?.Code);
    }
}

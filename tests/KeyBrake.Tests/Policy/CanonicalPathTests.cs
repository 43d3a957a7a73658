using KeyBrake.Policy;

namespace KeyBrake.Tests.Policy;

public sealed class CanonicalPathTests
{
    [Theory]
    [InlineData("/v1/payment_intents")]
    [InlineData("/v1/customers/cus_123")]
    [InlineData("/2010-04-01/Accounts/AC123/Messages.json")]
    [InlineData("/emails")]
    [InlineData("/a/b~c/d!$&'()*+,=:@-._")]
    public void IsCanonical_CanonicalPath_IsTrue(string path) => Assert.True(CanonicalPath.IsCanonical(path));

    [Theory]
    [InlineData("")]
    [InlineData("/")]
    [InlineData("v1/x")]
    [InlineData("//v1/x")]
    [InlineData("/v1//x")]
    [InlineData("/v1/x/")]
    [InlineData("/v1/./x")]
    [InlineData("/v1/../x")]
    [InlineData("/.")]
    [InlineData("/..")]
    [InlineData("/v1/%2e%2e/x")]
    [InlineData("/v1/%2E%2E/x")]
    [InlineData("/v1/x%2Fy")]
    [InlineData("/v1/x%2fy")]
    [InlineData("/v1/x%5Cy")]
    [InlineData("/v1/x\\y")]
    [InlineData("/v1\\..\\x")]
    [InlineData("/v1/x y")]
    [InlineData("/v1/x?y")]
    [InlineData("/v1/x#y")]
    [InlineData("/v1/x\"y")]
    [InlineData("/v1/ünïcode")]
    [InlineData("/v1/x\0")]
    [InlineData("/v1/..;/x")]
    [InlineData("/v1/x;a=b")]
    [InlineData("/v1/;")]
    public void IsCanonical_BypassAttempt_IsFalse(string path) => Assert.False(CanonicalPath.IsCanonical(path));

    [Theory]
    [InlineData("/v1/*", true, true)]
    [InlineData("/v1/*/x", true, true)]
    [InlineData("/v1/x*", true, false)]
    [InlineData("/v1/**", true, false)]
    public void IsCanonical_Star_IsALiteralInRequestsAndAWholeSegmentInPatterns(string path, bool asRequest, bool asPattern)
    {
        Assert.Equal(asRequest, CanonicalPath.IsCanonical(path));
        Assert.Equal(asPattern, CanonicalPath.IsCanonical(path, allowWildcard: true));
    }
}

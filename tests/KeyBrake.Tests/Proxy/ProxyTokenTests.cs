using System.Text;
using KeyBrake.Proxy;

namespace KeyBrake.Tests.Proxy;

public sealed class ProxyTokenTests
{
    private static string Basic(string pair) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(pair));

    [Theory]
    [InlineData("Bearer vk_abc", "vk_abc")]
    [InlineData("bearer vk_abc", "vk_abc")]
    [InlineData("Bearer   vk_abc  ", "vk_abc")]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("Bearer", null)]
    [InlineData("Bearer ", null)]
    [InlineData("Token vk_abc", null)]
    [InlineData("Basic !!!notbase64", null)]
    public void Read_Header_ReturnsToken(string? header, string? expected) => Assert.Equal(expected, ProxyToken.Read(header));

    [Fact]
    public void Read_Basic_TakesTheVaultKeyFromUsernameOrPassword()
    {
        Assert.Equal("vk_user", ProxyToken.Read(Basic("vk_user:")));
        Assert.Equal("vk_pass", ProxyToken.Read(Basic("AC123:vk_pass")));
        Assert.Equal("vk_user", ProxyToken.Read(Basic("vk_user:vk_pass")));
        Assert.Equal("not-a-key", ProxyToken.Read(Basic("AC123:not-a-key")));
        Assert.Null(ProxyToken.Read(Basic(":")));
    }

    [Fact]
    public void Read_OverlongHeader_IsNoToken() => Assert.Null(ProxyToken.Read("Bearer " + new string('a', 2000)));
}

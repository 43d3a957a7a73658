using System.Text.Json;

namespace KeyBrake.Audit.Tests;

/// <summary>RFC 8785 test vectors: Appendix B (numbers), §3.2.2 (the sample object) and §3.2.3 (property order).</summary>
public sealed class JcsTests
{
    [Theory]
    [InlineData(0x0000000000000000UL, "0")]
    [InlineData(0x8000000000000000UL, "0")]
    [InlineData(0x0000000000000001UL, "5e-324")]
    [InlineData(0x8000000000000001UL, "-5e-324")]
    [InlineData(0x7fefffffffffffffUL, "1.7976931348623157e+308")]
    [InlineData(0xffefffffffffffffUL, "-1.7976931348623157e+308")]
    [InlineData(0x4340000000000000UL, "9007199254740992")]
    [InlineData(0xc340000000000000UL, "-9007199254740992")]
    [InlineData(0x4430000000000000UL, "295147905179352830000")]
    [InlineData(0x44b52d02c7e14af5UL, "9.999999999999997e+22")]
    [InlineData(0x44b52d02c7e14af6UL, "1e+23")]
    [InlineData(0x44b52d02c7e14af7UL, "1.0000000000000001e+23")]
    [InlineData(0x444b1ae4d6e2ef4eUL, "999999999999999700000")]
    [InlineData(0x444b1ae4d6e2ef4fUL, "999999999999999900000")]
    [InlineData(0x444b1ae4d6e2ef50UL, "1e+21")]
    [InlineData(0x3eb0c6f7a0b5ed8cUL, "9.999999999999997e-7")]
    [InlineData(0x3eb0c6f7a0b5ed8dUL, "0.000001")]
    [InlineData(0x41b3de4355555553UL, "333333333.3333332")]
    [InlineData(0x41b3de4355555554UL, "333333333.33333325")]
    [InlineData(0x41b3de4355555555UL, "333333333.3333333")]
    [InlineData(0x41b3de4355555556UL, "333333333.3333334")]
    [InlineData(0x41b3de4355555557UL, "333333333.33333343")]
    [InlineData(0xbecbf647612f3696UL, "-0.0000033333333333333333")]
    [InlineData(0x43143ff3c1cb0959UL, "1424953923781206.2")]
    public void FormatNumber_Rfc8785AppendixB_MatchesExpected(ulong bits, string expected) =>
        Assert.Equal(expected, Jcs.FormatNumber(BitConverter.UInt64BitsToDouble(bits)));

    [Fact]
    public void Canonicalize_Rfc8785Sample_MatchesExpected()
    {
        const string input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;
        const string expected = """{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}""";

        Assert.Equal(expected, Jcs.Canonicalize(input));
    }

    [Fact]
    public void Canonicalize_PropertyOrder_IsByUtf16CodeUnits()
    {
        const string input = """{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}""";

        using var document = JsonDocument.Parse(Jcs.Canonicalize(input));
        var names = document.RootElement.EnumerateObject().Select(p => p.Value.GetString()!).ToArray();

        Assert.Equal(
            new[] { "Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign", "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh" },
            names);
    }

    [Fact]
    public void Sha256Hex_IsLowercaseHexOfTheCanonicalUtf8()
    {
        using var document = JsonDocument.Parse("""{ "b": 1, "a": "x" }""");

        // Reference computed outside .NET: printf '{"a":"x","b":1}' | sha256sum
        Assert.Equal("cdab067e9f3beb32d1252cfd63e492592fecbf591b0d08cadb24bb17f3864246", Jcs.Sha256Hex(document.RootElement));
    }
}

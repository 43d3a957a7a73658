using System.Text;
using System.Text.Json;
using KeyBrake.Audit;
using KeyBrake.Proxy;
using Microsoft.AspNetCore.Http;

namespace KeyBrake.Tests.Audit;

/// <summary>
/// The agent chooses every recipient, currency and id it sends: what reaches a proxy entry's details is bounded whatever
/// the request, and no masked value keeps text the agent put before a ':' or reveals a value's length beyond the bound.
/// </summary>
public sealed class AuditDetailsBoundsTests
{
    private const int MaxDetailsBytes = 4096;

    [Theory]
    [InlineData("Jane Doe DOB 1990-01-01:+15551234567")]
    [InlineData("secret-note:+15551234567")]
    [InlineData("Jane Doe DOB 1990-01-01")]
    public void Mask_TextBeforeAColonOrNotAPhoneNumber_NeverKept(string recipient)
    {
        var masked = Recipients.Mask(recipient);

        Assert.DoesNotContain("Jane", masked, StringComparison.Ordinal);
        Assert.DoesNotContain("1990", masked, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", masked, StringComparison.Ordinal);
        Assert.DoesNotContain("Ja", masked, StringComparison.Ordinal);
    }

    [Fact]
    public void Mask_HugeValues_AtMost64Characters_SameWhateverTheOriginalLength()
    {
        var phone = Recipients.Mask("+1" + new string('5', 1_000_000));
        var longerPhone = Recipients.Mask("+1" + new string('5', 2_000_000));
        var email = Recipients.Mask("j@" + new string('x', 1_000_000) + ".com");
        var longerEmail = Recipients.Mask("j@" + new string('x', 2_000_000) + ".com");
        var other = Recipients.Mask(new string('a', 1_000_000));

        Assert.All(new[] { phone, email, other }, m => Assert.InRange(m.Length, 1, Recipients.MaxLength));
        Assert.Equal((phone, email), (longerPhone, longerEmail));
        Assert.StartsWith("j***@", email, StringComparison.Ordinal);
        Assert.EndsWith("x.com", email, StringComparison.Ordinal);
    }

    [Fact]
    public void Mask_ControlCharactersAndSplitSurrogates_NeverReachTheEntry()
    {
        var masked = Recipients.Mask("\u0001@" + new string('\u0002', 100) + "\uD83D\uDE00" + new string('y', 57));

        Assert.DoesNotContain(masked, char.IsControl);
        Assert.DoesNotContain(masked, char.IsSurrogate);
    }

    [Fact]
    public void FromRequest_ManyHugeFormRecipients_TwentyKeptAndTheTrueCount()
    {
        var body = "amount=100&currency=usd&" + string.Join('&', Enumerable.Range(0, 500).Select(i => "to=%2B1555" + i.ToString("D7", System.Globalization.CultureInfo.InvariantCulture) + new string('9', 2_000)));

        var details = Details("application/x-www-form-urlencoded", body)!;

        Assert.InRange(Encoding.UTF8.GetByteCount(details), 1, MaxDetailsBytes);
        using var json = JsonDocument.Parse(details);
        Assert.Equal(Recipients.MaxListed, json.RootElement.GetProperty("recipients").GetArrayLength());
        Assert.Equal(500, json.RootElement.GetProperty("recipients_count").GetInt32());
        Assert.Equal((100, "usd"), (json.RootElement.GetProperty("amount_minor").GetInt64(), json.RootElement.GetProperty("currency").GetString()));
    }

    [Fact]
    public void FromRequest_JsonBatchWithHugeValues_Bounded()
    {
        var item = $$"""{"to":[{{string.Join(',', Enumerable.Range(0, 50).Select(_ => "\"" + new string('a', 5_000) + "@" + new string('b', 5_000) + "\""))}}],"cc":"{{new string('c', 100_000)}}"}""";
        var body = "[" + string.Join(',', Enumerable.Repeat(item, 3)) + "]";

        var details = Details("application/json", body)!;

        Assert.InRange(Encoding.UTF8.GetByteCount(details), 1, MaxDetailsBytes);
        using var json = JsonDocument.Parse(details);
        Assert.Equal((3, 153), (json.RootElement.GetProperty("batch_items").GetInt32(), json.RootElement.GetProperty("recipients_count").GetInt32()));
    }

    [Fact]
    public void FromRequest_HugeCurrency_Cut()
    {
        var details = Details("application/json", $$"""{"amount":100,"currency":"{{new string('U', 100_000)}}"}""")!;

        using var json = JsonDocument.Parse(details);
        Assert.InRange(json.RootElement.GetProperty("currency").GetString()!.Length, 3, CallDetails.MaxCurrencyLength);
    }

    [Fact]
    public void FromRequest_FewRecipients_NoCount()
    {
        Assert.Equal("""{"recipients":["j***@example.com"]}""", Details("application/json", """{"to":"jane@example.com"}"""));
    }

    [Theory]
    [InlineData(5, "abcde")]
    [InlineData(4, "abc…")]
    public void Cut_LongerThanMax_EndsMarked(int max, string expected) => Assert.Equal(expected, CallDetails.Cut("abcde", max));

    [Fact]
    public void Cut_NeverHalfASurrogatePair() =>
        Assert.Equal("ab…", CallDetails.Cut("ab\uD83D\uDE00cd", 4));

    private static string? Details(string contentType, string body) => AuditDetailsTests.Details(contentType, body);
}

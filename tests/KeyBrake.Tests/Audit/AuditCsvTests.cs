using System.Text;
using KeyBrake.Audit;

namespace KeyBrake.Tests.Audit;

public sealed class AuditCsvTests
{
    private static string Cell(string value)
    {
        var sb = new StringBuilder();
        AuditCsv.AppendCell(sb, value);
        return sb.ToString();
    }

    [Theory]
    [InlineData("=1+2", "'=1+2")]
    [InlineData("+1+2", "'+1+2")]
    [InlineData("-1+2", "'-1+2")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\t=1", "'\t=1")]
    [InlineData("\r=1", "\"'\r=1\"")] // a carriage return also needs RFC 4180 quotes
    [InlineData("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"")]
    [InlineData("-run,7", "\"'-run,7\"")]
    public void AppendCell_FormulaLeadingCharacter_GetsAQuoteBeforeIt_InsideRfc4180Quoting(string value, string expected) =>
        Assert.Equal(expected, Cell(value));

    [Theory]
    [InlineData("", "")]
    [InlineData("billing-run=7", "billing-run=7")] // only the first character counts
    [InlineData("'=1", "'=1")]
    [InlineData(" =1", " =1")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    public void AppendCell_OtherValues_AsRfc4180(string value, string expected) =>
        Assert.Equal(expected, Cell(value));

    [Fact]
    public void AppendRow_EveryFieldIsEscaped_NullsStayEmpty()
    {
        var sb = new StringBuilder();
        AuditCsv.AppendRow(sb, new AuditEntry
        {
            Seq = 7, Ts = "2026-01-01T00:00:00.000Z", Type = "proxy.request", Label = "-run", Actor = "key:key_1",
            Method = "GET", Path = "/v1/x", Reason = "+cmd", Details = "{\"a\":1}", PrevHash = "p", Hash = "h",
        });

        Assert.Equal("7,2026-01-01T00:00:00.000Z,proxy.request,,,'-run,,key:key_1,,GET,/v1/x,,,,,,'+cmd,,\"{\"\"a\"\":1}\",p,h\r\n", sb.ToString());
    }
}

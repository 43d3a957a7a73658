using System.Globalization;
using System.Text;

namespace KeyBrake.Audit;

/// <summary>
/// CSV export (RFC 4180): the fields of SPEC §7 in its order, <c>details</c> as its JSON text, formula-looking cells
/// defused (SPEC §7).
/// </summary>
internal static class AuditCsv
{
    public const string Header =
        "seq,ts,type,request_id,key_id,label,run_seq,actor,vendor,method,path,cost_usd_micros,decision,outcome,http_status," +
        "vendor_request_id,reason,policy_hash,details,prev_hash,hash";

    public static void AppendRow(StringBuilder sb, AuditEntry e)
    {
        sb.Append(e.Seq.ToString(CultureInfo.InvariantCulture));
        Field(sb, e.Ts);
        Field(sb, e.Type);
        Field(sb, e.RequestId);
        Field(sb, e.KeyId);
        Field(sb, e.Label);
        Field(sb, e.RunSeq?.ToString(CultureInfo.InvariantCulture));
        Field(sb, e.Actor);
        Field(sb, e.Vendor);
        Field(sb, e.Method);
        Field(sb, e.Path);
        Field(sb, e.CostUsdMicros?.ToString(CultureInfo.InvariantCulture));
        Field(sb, e.Decision);
        Field(sb, e.Outcome);
        Field(sb, e.HttpStatus?.ToString(CultureInfo.InvariantCulture));
        Field(sb, e.VendorRequestId);
        Field(sb, e.Reason);
        Field(sb, e.PolicyHash);
        Field(sb, e.Details);
        Field(sb, e.PrevHash);
        Field(sb, e.Hash);
        sb.Append("\r\n");
    }

    private static void Field(StringBuilder sb, string? value)
    {
        sb.Append(',');
        if (value is null)
        {
            return;
        }
        AppendCell(sb, value);
    }

    /// <summary>
    /// One cell. SPEC §7: a cell starting with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, tab or carriage return gets a
    /// leading <c>'</c>, so a spreadsheet shows the text instead of running it as a formula (an agent chooses its
    /// reason, and a label may start with <c>-</c>). Then RFC 4180: quoted when it holds a comma, quote or line break.
    /// </summary>
    internal static void AppendCell(StringBuilder sb, string value)
    {
        var quoted = value.AsSpan().IndexOfAny(",\"\r\n") >= 0;
        if (quoted)
        {
            sb.Append('"');
        }
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            sb.Append('\'');
        }
        if (quoted)
        {
            sb.Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            return;
        }
        sb.Append(value);
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KeyBrake.Audit.Tests;

public sealed class AuditHashTests
{
    [Fact]
    public void Compute_EqualsSha256OfTheGeneralJcsForm_WithEscapesAndUnicode()
    {
        var entry = TestChain.Sample(1) with
        {
            Reason = "refund \"dup\" \\ tab\t nl\n ctl\u0001 é €  😀",
            VendorRequestId = null,
            HttpStatus = 201,
            Details = """{"recipients":["j***@example.com"],"z":-12}""",
        };

        var viaGeneralJcs = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Jcs.Canonicalize(WithoutHash(entry)))));

        Assert.Equal(viaGeneralJcs, AuditHash.Compute(entry));
    }

    [Fact]
    public void ToJson_HasEveryFieldOfTheSpec_NullWhereItDoesNotApply()
    {
        var json = JsonNode.Parse(AuditHash.ToJson(TestChain.Build(1)[0]))!.AsObject();

        string[] fields = ["seq", "ts", "type", "request_id", "key_id", "label", "run_seq", "actor", "vendor", "method", "path",
            "cost_usd_micros", "decision", "outcome", "http_status", "vendor_request_id", "reason", "policy_hash", "details", "prev_hash", "hash"];
        Assert.Equal(fields.Order(StringComparer.Ordinal), json.Select(p => p.Key)); // and already in JCS order
        Assert.Null(json["outcome"]);
        Assert.Equal(500, json["details"]!["amount_minor"]!.GetValue<int>());
    }

    [Fact]
    public void Compute_ChangesWithEveryField()
    {
        var entry = TestChain.Build(1)[0];
        var variants = new[]
        {
            entry with { Seq = 2 }, entry with { Ts = "2026-06-03T10:00:02.123Z" }, entry with { Type = AuditTypes.ProxyDenied },
            entry with { RequestId = "req_x" }, entry with { KeyId = "key_2" }, entry with { Label = "run-448" }, entry with { RunSeq = 9 },
            entry with { Actor = "system" }, entry with { Vendor = "twilio" }, entry with { Method = "GET" }, entry with { Path = "/v1/x" },
            entry with { CostUsdMicros = 1 }, entry with { Decision = "deny:x" }, entry with { Outcome = "executed" }, entry with { HttpStatus = 200 },
            entry with { VendorRequestId = "req_v" }, entry with { Reason = "r" }, entry with { PolicyHash = "b" },
            entry with { Details = "{}" }, entry with { PrevHash = new string('1', 64) },
        };
        Assert.Equal(variants.Length + 1, variants.Select(AuditHash.Compute).Append(AuditHash.Compute(entry)).Distinct().Count());
    }

    private static JsonElement WithoutHash(AuditEntry entry)
    {
        var node = JsonNode.Parse(AuditHash.ToJson(entry))!.AsObject();
        node.Remove("hash");
        return JsonDocument.Parse(node.ToJsonString()).RootElement;
    }
}

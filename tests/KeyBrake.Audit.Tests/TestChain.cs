using System.Globalization;

namespace KeyBrake.Audit.Tests;

/// <summary>Builds well-formed chains the way the writer does, for the verifier's tests.</summary>
internal static class TestChain
{
    public static List<AuditEntry> Build(int count, Func<int, AuditEntry>? make = null)
    {
        var entries = new List<AuditEntry>(count);
        var prev = AuditHash.Genesis;
        for (var i = 1; i <= count; i++)
        {
            var entry = (make?.Invoke(i) ?? Sample(i)) with { Seq = i, PrevHash = prev };
            entry = entry with { Hash = AuditHash.Compute(entry) };
            entries.Add(entry);
            prev = entry.Hash;
        }
        return entries;
    }

    /// <summary>Recomputes every link and hash: what someone rewriting the whole chain would do.</summary>
    public static List<AuditEntry> Relink(IEnumerable<AuditEntry> entries)
    {
        var prev = AuditHash.Genesis;
        var result = new List<AuditEntry>();
        foreach (var e in entries)
        {
            var entry = e with { PrevHash = prev };
            entry = entry with { Hash = AuditHash.Compute(entry) };
            result.Add(entry);
            prev = entry.Hash;
        }
        return result;
    }

    public static AuditEntry Sample(int i) => new()
    {
        Ts = string.Create(CultureInfo.InvariantCulture, $"2026-06-03T10:00:{i % 60:00}.123Z"),
        Type = AuditTypes.ProxyRequest,
        RequestId = "req_" + i,
        KeyId = "key_1",
        Label = "run-447",
        RunSeq = i,
        Actor = "key:key_1",
        Vendor = "stripe",
        Method = "POST",
        Path = "/v1/payment_intents",
        CostUsdMicros = 5_000_000,
        Decision = "allow:POST /v1/payment_intents",
        PolicyHash = new string('a', 64),
        Details = """{"amount_minor":500,"currency":"usd"}""",
    };
}

namespace KeyBrake.Audit;

/// <summary>
/// An entry's fields by their number in <see cref="Fields.Names"/> (0 seq … 20 hash), as UTF-8
/// or integers: what the canonical writer reads, from an <see cref="AuditEntry"/> or straight from a SQLite row.
/// </summary>
public interface IEntryFields
{
    bool IsNull(int field);

    /// <summary>The UTF-8 bytes of a text field (empty when null); valid until the next call.</summary>
    ReadOnlySpan<byte> Utf8(int field);

    long Number(int field);
}

/// <summary>The field numbers of <see cref="Names"/>: the order every store's columns are read in.</summary>
public static class Fields
{
    /// <summary>The stored names of the fields (the columns of <c>audit_entries</c>), in field-number order.</summary>
    public const string Names =
        "seq, ts, type, request_id, key_id, label, run_seq, actor, vendor, method, path, cost_usd_micros, decision, " +
        "outcome, http_status, vendor_request_id, reason, policy_hash, details, prev_hash, hash";

    public const int Seq = 0, Ts = 1, Type = 2, RequestId = 3, KeyId = 4, Label = 5, RunSeq = 6, Actor = 7, Vendor = 8,
        Method = 9, Path = 10, CostUsdMicros = 11, Decision = 12, Outcome = 13, HttpStatus = 14, VendorRequestId = 15,
        Reason = 16, PolicyHash = 17, Details = 18, PrevHash = 19, Hash = 20;
}

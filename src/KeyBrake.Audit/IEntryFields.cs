namespace KeyBrake.Audit;

/// <summary>
/// An entry's fields by their column number in <see cref="SqliteAuditStore.Columns"/> (0 seq … 20 hash), as UTF-8
/// or integers: what the canonical writer reads, from an <see cref="AuditEntry"/> or straight from a SQLite row.
/// </summary>
public interface IEntryFields
{
    bool IsNull(int field);

    /// <summary>The UTF-8 bytes of a text field (empty when null); valid until the next call.</summary>
    ReadOnlySpan<byte> Utf8(int field);

    long Number(int field);
}

/// <summary>The column numbers of <see cref="SqliteAuditStore.Columns"/>.</summary>
public static class Fields
{
    public const int Seq = 0, Ts = 1, Type = 2, RequestId = 3, KeyId = 4, Label = 5, RunSeq = 6, Actor = 7, Vendor = 8,
        Method = 9, Path = 10, CostUsdMicros = 11, Decision = 12, Outcome = 13, HttpStatus = 14, VendorRequestId = 15,
        Reason = 16, PolicyHash = 17, Details = 18, PrevHash = 19, Hash = 20;
}

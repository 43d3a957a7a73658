namespace KeyBrake.Audit;

/// <summary>
/// One entry of the audit chain (SPEC §7). Every field is always present in the JSON form, null where it does not
/// apply. <see cref="Details"/> is already canonical JSON (RFC 8785) so it hashes as written.
/// <see cref="Seq"/>, <see cref="RunSeq"/>, <see cref="PrevHash"/> and <see cref="Hash"/> are set by the writer.
/// </summary>
public sealed record AuditEntry
{
    public long Seq { get; init; }
    public required string Ts { get; init; }
    public required string Type { get; init; }
    public string? RequestId { get; init; }
    public string? KeyId { get; init; }
    public string? Label { get; init; }
    public long? RunSeq { get; init; }
    public string? Actor { get; init; }
    public string? Vendor { get; init; }
    public string? Method { get; init; }
    public string? Path { get; init; }
    public long? CostUsdMicros { get; init; }
    public string? Decision { get; init; }
    public string? Outcome { get; init; }
    public int? HttpStatus { get; init; }
    public string? VendorRequestId { get; init; }
    public string? Reason { get; init; }
    public string? PolicyHash { get; init; }
    public string? Details { get; init; }
    public string PrevHash { get; init; } = AuditHash.Genesis;
    public string Hash { get; init; } = "";

    /// <summary>True for <c>proxy.*</c> entries, which carry a per-key <see cref="RunSeq"/>.</summary>
    public bool IsProxyEntry => Type.StartsWith("proxy.", StringComparison.Ordinal);
}

/// <summary>The entry types of SPEC §7, plus the two KeyBrake adds (README: "Choices where SPEC.md is silent").</summary>
public static class AuditTypes
{
    public const string ProxyRequest = "proxy.request";
    public const string ProxyResponse = "proxy.response";
    public const string ProxyDenied = "proxy.denied";
    public const string KeyCreated = "key.created";
    public const string KeyUpdated = "key.updated";
    public const string KeyRevoked = "key.revoked";
    public const string KeyExpired = "key.expired";
    public const string PrincipalCreated = "principal.created";
    public const string PrincipalDisabled = "principal.disabled";
    public const string ChainAcknowledged = "audit.chain_acknowledged";
}

/// <summary>The outcomes of SPEC §7.</summary>
public static class AuditOutcomes
{
    public const string Executed = "executed";
    public const string VendorRejected = "vendor_rejected";
    public const string InDoubt = "in_doubt";
    /// <summary>SPEC §5: no connection to the vendor could be made, nothing was sent; the reservation was released.</summary>
    public const string NotDelivered = "not_delivered";
    public const string Denied = "denied";
}

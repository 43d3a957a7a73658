namespace KeyBrake.Audit;

/// <summary>A key as the chain knows it: its last <c>run_seq</c>, and <c>key.revoked</c> / <c>key.expired</c> if one is sealed (else null).</summary>
public readonly record struct AuditKeyState(long LastRunSeq, string? ClosedBy);

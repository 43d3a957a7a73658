using KeyBrake.Audit;
using Microsoft.AspNetCore.Mvc;

namespace KeyBrake.Admin.Dashboard;

/// <summary>The chain's integrity: the last verify result, a button to verify now, the signed checkpoints, the public key.</summary>
public sealed class IntegrityModel : DashboardPage
{
    private const int CheckpointsShown = 20;

    internal VerifyResult? Last { get; private set; }

    public string? LastAt { get; private set; }

    internal IReadOnlyList<Checkpoint> Checkpoints { get; private set; } = [];

    public int CheckpointCount { get; private set; }

    public string PublicKey { get; private set; } = "";

    public long HeadSeq { get; private set; }

    public string? ProxyBlocked { get; private set; }

    public IActionResult OnGet()
    {
        if (!IsAuditor)
        {
            return Forbidden(Roles.Auditor);
        }
        var log = Service<AuditLog>();
        Last = log.LastVerify;
        LastAt = log.LastVerifiedAt is { } at ? AuditClock.Format(at) : null;
        var all = log.Writer.AllCheckpoints();
        CheckpointCount = all.Count;
        Checkpoints = [.. all.OrderByDescending(c => c.Seq).Take(CheckpointsShown)];
        PublicKey = SigningKeys.PublicKeyPem(log.SigningKey);
        HeadSeq = log.Writer.HeadSeq;
        ProxyBlocked = log.ProxyBlocked;
        return Page();
    }

    public IActionResult OnPostVerify()
    {
        if (!IsAuditor)
        {
            return Forbidden(Roles.Auditor);
        }
        var result = Service<AuditLog>().VerifyNow();
        Flash = result.Ok
            ? $"Verified: {result.Entries} entries, head seq {result.HeadSeq}."
            : $"BROKEN: first bad seq {result.FirstBadSeq}: {result.Problem}";
        return RedirectToPage();
    }
}

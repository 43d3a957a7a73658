using KeyBrake.Audit;
using KeyBrake.Keys;
using KeyBrake.Storage;
using Microsoft.AspNetCore.Mvc;

namespace KeyBrake.Admin.Dashboard;

/// <summary>One key: its policy, spend, change history (key.* entries) and its live audit tail.</summary>
public sealed class KeyModel : DashboardPage
{
    private const int MaxHistory = 200;

    internal KeyView Key { get; private set; } = null!;

    internal List<AuditEntry> History { get; } = [];

    public async Task<IActionResult> OnGetAsync(string id)
    {
        if (!IsOperator && !IsAuditor)
        {
            return Forbidden(Roles.Operator | Roles.Auditor);
        }
        var key = await Service<IKeyStore>().FindByIdAsync(id, HttpContext.RequestAborted);
        if (key is null)
        {
            return NotFound();
        }
        Key = await ViewAsync(key);
        if (IsAuditor)
        {
            History.AddRange(await Service<IAuditReader>().QueryAsync(new AuditFilter { KeyId = id, TypePrefix = "key." }, MaxHistory, HttpContext.RequestAborted));
        }
        return Page();
    }
}

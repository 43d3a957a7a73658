using KeyBrake.Keys;
using Microsoft.AspNetCore.Mvc;

namespace KeyBrake.Admin.Dashboard;

/// <summary>Keys with status, spend against cap and time to expiry; revoke one, or every key of a run by label prefix.</summary>
public sealed class IndexModel : DashboardPage
{
    private const int MaxShown = 500;

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; } = "active";

    [BindProperty(SupportsGet = true, Name = "label_prefix")]
    public string? LabelPrefix { get; set; }

    internal List<KeyView> Keys { get; } = [];

    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (!IsOperator && !IsAuditor)
        {
            return Forbidden(Roles.Operator | Roles.Auditor);
        }
        KeyStatus? status = Status is not null && KeyEndpoints.TryParseStatus(Status, out var parsed) ? parsed : null; // "all": no filter
        var keys = Service<KeyService>();
        var found = await Service<IKeyStore>().ListAsync(
            new KeyQuery(status, null, string.IsNullOrEmpty(LabelPrefix) ? null : LabelPrefix, MaxShown), keys.Now, HttpContext.RequestAborted);
        foreach (var key in found)
        {
            Keys.Add(await ViewAsync(key));
        }
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(string id, string? reason)
    {
        if (!IsOperator)
        {
            return Forbidden(Roles.Operator);
        }
        if (!ValidReason(reason))
        {
            Flash = "A revocation needs a reason (1-1000 characters).";
            return RedirectToPage();
        }
        var revocation = await Service<KeyService>().RevokeAsync(id, reason, Principal.Actor, HttpContext.RequestAborted);
        Flash = revocation.State switch
        {
            RevocationState.NotFound => $"No key {id}.",
            RevocationState.Pending => $"Revocation pending (503 revocation_pending): KeyBrake refuses {id} from now on (its next request gets 401 key_revoked), "
                + "but the store has not recorded the revocation yet (locked, busy or full). KeyBrake keeps retrying until it does; "
                + "the key shows as revoked here once it has. Revoking again is safe.",
            _ => $"Revoked {revocation.Keys[0].Id} ({revocation.Keys[0].Label}): its next request gets 401 key_revoked.",
        };
        return Redirect(Request.Form["return"] is [{ Length: > 0 } back] && back.StartsWith("/keys/", StringComparison.Ordinal) ? back : "/");
    }

    public async Task<IActionResult> OnPostKillAsync(string? labelPrefix, string? reason)
    {
        if (!IsOperator)
        {
            return Forbidden(Roles.Operator);
        }
        if (string.IsNullOrEmpty(labelPrefix) || labelPrefix.Length > 200 || !ValidReason(reason))
        {
            Flash = "The kill switch needs a label prefix (1-200 characters) and a reason (1-1000 characters).";
            return RedirectToPage();
        }
        var revocation = await Service<KeyService>().RevokeByLabelPrefixAsync(labelPrefix, reason, Principal.Actor, HttpContext.RequestAborted);
        var revoked = revocation.Keys;
        Flash = revocation.State == RevocationState.Pending
            ? $"Kill switch pending (503 revocation_pending): KeyBrake refuses every key whose label starts with '{labelPrefix}' from now on, "
                + "but the store has not recorded the revocation yet (locked, busy or full). KeyBrake keeps retrying until it does. Repeating the kill switch is safe."
            : revoked.Count == 0
            ? $"No active key has a label starting with '{labelPrefix}'; nothing revoked."
            : $"Revoked {revoked.Count} key(s) with label prefix '{labelPrefix}': {string.Join(", ", revoked.Select(k => k.Id))}.";
        return RedirectToPage();
    }

    internal static bool ValidReason(string? reason) => !string.IsNullOrWhiteSpace(reason) && reason.Length <= 1000;
}

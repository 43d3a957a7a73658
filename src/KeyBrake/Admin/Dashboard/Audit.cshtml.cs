using KeyBrake.Audit;
using KeyBrake.Storage;
using Microsoft.AspNetCore.Mvc;

namespace KeyBrake.Admin.Dashboard;

/// <summary>The audit log with the filters of SPEC §7 (the same parser as <c>GET /v1/audit</c>), paged by seq.</summary>
public sealed class AuditModel : DashboardPage
{
    internal List<AuditEntry> Entries { get; } = [];

    internal List<FieldError> Errors { get; } = [];

    public long? NextAfterSeq { get; private set; }

    public string Value(string name) => Request.Query[name].ToString();

    public async Task<IActionResult> OnGetAsync()
    {
        if (!IsAuditor)
        {
            return Forbidden(Roles.Auditor);
        }
        // Empty form fields mean "no filter", as a person filling the form means them.
        var filled = new Microsoft.AspNetCore.Http.QueryCollection(Request.Query
            .Where(p => !string.IsNullOrEmpty(p.Value.ToString()))
            .ToDictionary(p => p.Key, p => p.Value));
        var query = AuditQuery.Parse(filled, AuditEndpoints.QueryParameters, Errors);
        if (query is null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }
        Entries.AddRange(await Service<IAuditReader>().QueryAsync(query.Filter, query.Limit + 1, HttpContext.RequestAborted));
        if (Entries.Count > query.Limit)
        {
            Entries.RemoveAt(Entries.Count - 1);
            NextAfterSeq = Entries[^1].Seq;
        }
        return Page();
    }

    public string NextPageUrl()
    {
        var pairs = Request.Query.Where(p => p.Key != "after_seq" && !string.IsNullOrEmpty(p.Value.ToString()))
            .Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value.ToString())}")
            .Append($"after_seq={NextAfterSeq}");
        return "/audit?" + string.Join('&', pairs);
    }
}

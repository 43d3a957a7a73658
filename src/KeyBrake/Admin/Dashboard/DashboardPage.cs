using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using KeyBrake.Access;

namespace KeyBrake.Admin.Dashboard;

/// <summary>A signed-in dashboard page: its principal, role checks, and money and time as the pages show them.</summary>
public abstract class DashboardPage : PageModel
{
    internal Principal Principal => HttpContext.CurrentPrincipal();

    public string PrincipalName => Principal.Name;

    public string PrincipalRoles => Principal.RolesText(Principal.Roles);

    public bool IsOperator => Principal.Roles.HasFlag(Roles.Operator);

    public bool IsAuditor => Principal.Roles.HasFlag(Roles.Auditor);

    internal T Service<T>() where T : notnull => HttpContext.RequestServices.GetRequiredService<T>();

    internal Task<Keys.KeyView> ViewAsync(Keys.VaultKey key) =>
        Keys.KeyEndpoints.ViewAsync(key, Service<Keys.KeyService>(), Service<Spend.ISpendGate>(), HttpContext.RequestAborted);

    [TempData]
    public string? Flash { get; set; }

    /// <summary>403 with the same words the admin API uses.</summary>
    internal IActionResult Forbidden(Roles needed) => new ContentResult
    {
        StatusCode = StatusCodes.Status403Forbidden,
        ContentType = "text/plain; charset=utf-8",
        Content = $"403 forbidden: principal '{Principal.Name}' lacks the role for this action (needs one of: {Principal.RolesText(needed)}).",
    };

    public static string Usd(decimal usd) => "$" + usd.ToString("#,0.00####", CultureInfo.InvariantCulture);

    public static string Usd(decimal? usd) => usd is { } known ? Usd(known) : "unknown";

    public static string Micros(long? micros) => micros is { } m ? Usd(m / 1_000_000m) : "";

    public string Until(string timestamp)
    {
        if (!DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return "";
        }
        var left = at - HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var span = left.Duration();
        var text = span.TotalDays >= 1 ? $"{(int)span.TotalDays}d {span.Hours}h"
            : span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes}m"
            : $"{span.Minutes}m {span.Seconds}s";
        return left >= TimeSpan.Zero ? "in " + text : text + " ago";
    }
}

using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using KeyBrake.Access;

namespace KeyBrake.Admin.Dashboard;

[AllowAnonymous]
public sealed class SignInModel : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? token)
    {
        var principal = token is null ? null : await HttpContext.RequestServices.GetRequiredService<DashboardSession>().SignInAsync(HttpContext, token);
        if (principal is null)
        {
            Error = "That is not the token of an active principal.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }
        // Only a local path: never an open redirect.
        return LocalRedirect(ReturnUrl is { Length: > 1 } url && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/");
    }
}

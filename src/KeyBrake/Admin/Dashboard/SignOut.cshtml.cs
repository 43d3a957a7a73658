using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using KeyBrake.Access;

namespace KeyBrake.Admin.Dashboard;

[AllowAnonymous]
public sealed class SignOutModel : PageModel
{
    public IActionResult OnGet() => Redirect("/");

    public IActionResult OnPost()
    {
        DashboardSession.SignOut(HttpContext);
        return Redirect("/signin");
    }
}

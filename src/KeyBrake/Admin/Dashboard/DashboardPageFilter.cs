using System.Security.Claims;
using KeyBrake.Proxy;
using KeyBrake.Access;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace KeyBrake.Admin.Dashboard;

/// <summary>
/// Every dashboard page: admin listener only (404 elsewhere), strict security headers, and a signed-in principal
/// (else a redirect to the sign-in page), looked up again on every request.
/// An authorization filter ordered before Razor Pages' antiforgery check, so that check already sees the signed-in
/// principal as <see cref="HttpContext.User"/>: a form token then carries that principal's claim and is refused (400)
/// in any other principal's session, also when both sessions share one browser and so one antiforgery cookie.
/// </summary>
internal sealed class DashboardPageFilter : IAsyncAuthorizationFilter, IOrderedFilter
{
    private const string AuthenticationType = "KeyBrake.Dashboard";

    /// <summary>Before antiforgery validation (<c>AutoValidateAntiforgeryTokenAttribute</c>, order 1000).</summary>
    public int Order => -1000;

    public async Task OnAuthorizationAsync(AuthorizationFilterContext context)
    {
        var http = context.HttpContext;
        if (http.RequestServices.GetRequiredService<ListenerMap>().KindOf(http.Connection.LocalPort) != ListenerKind.Admin)
        {
            context.Result = new NotFoundResult();
            return;
        }
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache, no-store"; // exactly what antiforgery sets on pages with forms
        headers.Pragma = "no-cache";
        // Pages open to everyone (sign-in, sign-out) still see a live session: the sign-out form is rendered inside
        // one, and its token must validate on the way back.
        var principal = await http.RequestServices.GetRequiredService<DashboardSession>().AuthenticateAsync(http);
        if (principal is not null)
        {
            http.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, principal.Name)], AuthenticationType));
            http.SetPrincipal(principal);
            return;
        }
        if (!context.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>().Any())
        {
            context.Result = new RedirectResult("/signin?returnUrl=" + Uri.EscapeDataString(http.Request.Path + http.Request.QueryString));
        }
    }
}

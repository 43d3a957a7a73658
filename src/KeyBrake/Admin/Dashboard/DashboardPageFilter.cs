using KeyBrake.Proxy;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;

namespace KeyBrake.Admin.Dashboard;

/// <summary>
/// Every dashboard page: admin listener only (404 elsewhere), strict security headers, and a signed-in principal
/// (else a redirect to the sign-in page), looked up again on every request.
/// </summary>
internal sealed class DashboardPageFilter : IAsyncPageFilter
{
    public Task OnPageHandlerSelectionAsync(PageHandlerSelectedContext context) => Task.CompletedTask;

    public async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
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
        if (context.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>().Any())
        {
            await next();
            return;
        }
        var principal = await http.RequestServices.GetRequiredService<DashboardSession>().AuthenticateAsync(http);
        if (principal is null)
        {
            context.Result = new RedirectResult("/signin?returnUrl=" + Uri.EscapeDataString(http.Request.Path + http.Request.QueryString));
            return;
        }
        http.SetPrincipal(principal);
        await next();
    }
}

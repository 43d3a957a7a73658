using KeyBrake.Keys;
using KeyBrake.Admin;

namespace KeyBrake.Access;

/// <summary>
/// Admin endpoints: reachable only on the admin listener (404 elsewhere), then <c>Authorization: Bearer</c> with a
/// principal token (401 <c>unauthorized</c>), then one of the endpoint's roles (403 <c>forbidden</c>). For GET and
/// HEAD only, the dashboard's session cookie also authenticates (its live tail uses EventSource, which cannot send
/// headers); a call that changes anything always needs the bearer token, so a cookie can never be ridden into one.
/// </summary>
internal static class AdminAuth
{
    private static readonly object PrincipalKey = new();

    public static TBuilder AdminListenerOnly<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static async (context, next) =>
            context.HttpContext.RequestServices.GetRequiredService<ListenerMap>().KindOf(context.HttpContext.Connection.LocalPort) == ListenerKind.Admin
                ? await next(context)
                : Results.NotFound());

    public static TBuilder RequireRoles<TBuilder>(this TBuilder builder, Roles anyOf) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var principal = await AuthenticateAsync(http);
            if (principal is null)
            {
                http.Response.Headers.WWWAuthenticate = "Bearer";
                return new KeyBrakeError(StatusCodes.Status401Unauthorized, "unauthorized", "A valid principal token is required: Authorization: Bearer <token>.");
            }
            if ((principal.Roles & anyOf) == Roles.None)
            {
                return new KeyBrakeError(StatusCodes.Status403Forbidden, "forbidden",
                    $"Principal '{principal.Name}' lacks the role for this call (needs one of: {Principal.RolesText(anyOf)}).");
            }
            http.Items[PrincipalKey] = principal;
            return await next(context); // an AuditUnavailableException becomes 503 in AuditUnavailableHandling
        });

    public static Principal CurrentPrincipal(this HttpContext context) =>
        context.Items[PrincipalKey] as Principal ?? throw new InvalidOperationException("No authenticated principal.");

    public static void SetPrincipal(this HttpContext context, Principal principal) => context.Items[PrincipalKey] = principal;

    private static async Task<Principal?> AuthenticateAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header.Length == 0 && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
                ? await context.RequestServices.GetRequiredService<DashboardSession>().AuthenticateAsync(context)
                : null;
        }
        var token = header["Bearer ".Length..].Trim();
        if (token.Length is 0 or > 200)
        {
            return null;
        }
        var store = context.RequestServices.GetRequiredService<IPrincipalStore>();
        var principal = await store.FindByTokenHashAsync(VaultToken.Hash(token), context.RequestAborted);
        return principal is { DisabledAt: null } ? principal : null;
    }
}

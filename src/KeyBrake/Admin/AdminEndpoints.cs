using System.Text.Json;
using System.Text.RegularExpressions;
using KeyBrake.Audit;
using KeyBrake.Keys;
using KeyBrake.Storage;
using KeyBrake.Access;

namespace KeyBrake.Admin;

/// <summary>Principals (role <c>admin</c>), <c>/healthz</c> and <c>/readyz</c>, on the admin listener.</summary>
internal static partial class AdminEndpoints
{
    public static IServiceCollection AddKeyBrakeAdmin(this IServiceCollection services)
    {
        services.AddSingleton<AdminBootstrap>();
        return services;
    }

    public static IEndpointRouteBuilder MapKeyBrakeAdmin(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Json(new { status = "ok" })).AdminListenerOnly();
        // Not ready while proxied calls would be refused: database down, audit commits failing, or a broken chain.
        app.MapGet("/readyz", (IStoreEngine database, AuditLog audit) =>
        {
            var problem = !database.IsReachable() ? "database unreachable"
                : audit.ProxyBlocked ?? (audit.Writer.Failure is { } failure ? "audit commits failing: " + failure : null);
            return problem is null
                ? Results.Json(new { status = "ready" })
                : Results.Json(new { status = "unavailable", problem }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }).AdminListenerOnly();

        var principals = app.MapGroup("/v1/principals").AdminListenerOnly().RequireRoles(Roles.Admin);
        principals.MapGet("/", async (IPrincipalStore store, CancellationToken ct) =>
            AdminJson.Ok(new { principals = (await store.ListAsync(ct)).Select(View) }));
        principals.MapPost("/", CreatePrincipalAsync);
        principals.MapDelete("/{name}", async (string name, HttpContext context, IPrincipalStore store, AuditLog audit, TimeProvider time) =>
        {
            var at = Timestamps.Truncate(time.GetUtcNow());
            if (!await store.DisableAsync(name, at, context.RequestAborted))
            {
                return new KeyBrakeError(StatusCodes.Status404NotFound, "principal_not_found", $"No active principal '{name}'.");
            }
            await RecordAsync(audit, PrincipalEntries.PrincipalDisabled(name, context.CurrentPrincipal().Actor, Timestamps.ToText(at)));
            return Results.NoContent();
        });
        return app;
    }

    private static async Task<IResult> CreatePrincipalAsync(HttpContext context, IPrincipalStore store, AuditLog audit, TimeProvider time)
    {
        var (body, error) = await AdminJson.ReadAsync(context);
        if (error is not null)
        {
            return error;
        }
        var errors = new List<FieldError>();
        string? name = null;
        var roles = Roles.None;
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("body", "must be a JSON object"));
        }
        else
        {
            name = body.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            if (name is null || !PrincipalName().IsMatch(name))
            {
                errors.Add(new("name", "is required: 1-64 characters of [A-Za-z0-9._-]"));
            }
            if (!body.TryGetProperty("roles", out var r) || r.ValueKind != JsonValueKind.Array || r.GetArrayLength() == 0)
            {
                errors.Add(new("roles", "is required: a non-empty list of operator, auditor, admin"));
            }
            else
            {
                foreach (var item in r.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String && Principal.TryParseRole(item.GetString()!, out var role))
                    {
                        roles |= role;
                    }
                    else
                    {
                        errors.Add(new("roles", $"'{item}' is not one of operator, auditor, admin"));
                    }
                }
            }
            foreach (var property in body.EnumerateObject().Where(p => p.Name is not ("name" or "roles")))
            {
                errors.Add(new(property.Name, "is not a known field (known: name, roles)"));
            }
        }
        if (errors.Count > 0)
        {
            return KeyBrakeError.InvalidRequest(errors);
        }
        var principal = new Principal(name!, roles, Timestamps.Truncate(time.GetUtcNow()), context.CurrentPrincipal().Actor, null);
        var token = VaultToken.NewPrincipalToken();
        if (!await store.InsertAsync(principal, VaultToken.Hash(token), context.RequestAborted))
        {
            return new KeyBrakeError(StatusCodes.Status409Conflict, "principal_exists", $"A principal named '{name}' exists.");
        }
        await RecordAsync(audit, PrincipalEntries.PrincipalCreated(principal, Timestamps.ToText(principal.CreatedAt)));
        return AdminJson.Ok(new { principal.Name, roles = Principal.RolesText(roles).Split(','), created_at = Timestamps.ToText(principal.CreatedAt), created_by = principal.CreatedBy, token },
            StatusCodes.Status201Created);
    }

    private static async Task RecordAsync(AuditLog audit, AuditEntry entry)
    {
        if (!await audit.AppendDurableAsync(entry, CancellationToken.None))
        {
            throw new AuditUnavailableException($"The change was applied, but its {entry.Type} entry is not written yet (it stays queued).");
        }
    }

    private static object View(Principal p) => new
    {
        name = p.Name,
        roles = Principal.RolesText(p.Roles).Split(',', StringSplitOptions.RemoveEmptyEntries),
        created_at = Timestamps.ToText(p.CreatedAt),
        created_by = p.CreatedBy,
        disabled_at = p.DisabledAt is { } at ? Timestamps.ToText(at) : null,
    };

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex PrincipalName();
}

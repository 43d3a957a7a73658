using System.Text.Json;
using KeyBrake.Admin;
using KeyBrake.Spend;
using KeyBrake.Access;

namespace KeyBrake.Keys;

/// <summary>The admin API for vault keys (SPEC §3).</summary>
internal static class KeyEndpoints
{
    private const int DefaultListLimit = 500;
    private const int MaxListLimit = 5000;

    public static IServiceCollection AddKeyBrakeKeys(this IServiceCollection services)
    {
        services.AddSingleton<RefusedKeys>();
        services.AddSingleton<KeyLookup>();
        services.AddSingleton<KeyService>();
        services.AddSingleton<RevocationWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<RevocationWriter>());
        services.AddHostedService<KeyExpirySweep>();
        return services;
    }

    public static IEndpointRouteBuilder MapKeyBrakeKeys(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/v1/keys").AdminListenerOnly();
        keys.MapPost("/", CreateAsync).RequireRoles(Roles.Operator);
        keys.MapGet("/", ListAsync).RequireRoles(Roles.Operator | Roles.Auditor);
        keys.MapGet("/{id}", GetAsync).RequireRoles(Roles.Operator | Roles.Auditor);
        keys.MapPatch("/{id}", UpdateAsync).RequireRoles(Roles.Operator);
        keys.MapDelete("/{id}", RevokeAsync).RequireRoles(Roles.Operator);
        keys.MapPost("/revoke", RevokeByLabelPrefixAsync).RequireRoles(Roles.Operator);
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, KeyService keys, ISpendGate spend)
    {
        var (body, error) = await AdminJson.ReadAsync(context);
        if (error is not null)
        {
            return error;
        }
        var errors = new List<FieldError>();
        var spec = KeyRequests.ParseCreate(body, keys.Vendors, keys.MaxTtl, keys.DefaultTtl, errors);
        if (spec is null)
        {
            return KeyBrakeError.InvalidRequest(errors);
        }
        var (key, token) = await keys.CreateAsync(spec, context.CurrentPrincipal().Actor, context.RequestAborted);
        // A key just made has spent nothing: no ledger read, so the one answer that carries the token never fails after the key exists.
        return AdminJson.Ok(KeyView.From(key, keys.Now, default(MicroUsd), default(MicroUsd), token), StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(
        HttpContext context, IKeyStore store, KeyService keys, ISpendGate spend,
        string? status, string? vendor, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "label_prefix")] string? labelPrefix, int? limit)
    {
        var errors = new List<FieldError>();
        KeyStatus? statusFilter = null;
        if (status is not null)
        {
            if (TryParseStatus(status, out var parsed))
            {
                statusFilter = parsed;
            }
            else
            {
                errors.Add(new("status", "must be active, expired or revoked"));
            }
        }
        if (limit is < 1 or > MaxListLimit)
        {
            errors.Add(new("limit", $"must be 1-{MaxListLimit}"));
        }
        if (errors.Count > 0)
        {
            return KeyBrakeError.InvalidRequest(errors);
        }
        var found = await store.ListAsync(new KeyQuery(statusFilter, vendor, labelPrefix, limit ?? DefaultListLimit), keys.Now, context.RequestAborted);
        var views = new List<KeyView>(found.Count);
        foreach (var key in found)
        {
            views.Add(await ViewAsync(key, keys, spend, context.RequestAborted));
        }
        return AdminJson.Ok(new { keys = views });
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, IKeyStore store, KeyService keys, ISpendGate spend)
    {
        var key = await store.FindByIdAsync(id, context.RequestAborted);
        return key is null ? NotFound(id) : AdminJson.Ok(await ViewAsync(key, keys, spend, context.RequestAborted));
    }

    private static async Task<IResult> UpdateAsync(string id, HttpContext context, IKeyStore store, KeyService keys, ISpendGate spend)
    {
        var (body, error) = await AdminJson.ReadAsync(context);
        if (error is not null)
        {
            return error;
        }
        var current = await store.FindByIdAsync(id, context.RequestAborted);
        if (current is null)
        {
            return NotFound(id);
        }
        // A revocation this process enforces but the store has not taken yet makes the key revoked here too.
        current = keys.AsEnforced(current);
        var errors = new List<FieldError>();
        var patch = KeyRequests.ParsePatch(body, current, keys.MaxTtl, errors);
        if (patch is null)
        {
            return KeyBrakeError.InvalidRequest(errors);
        }
        var updated = current.RevokedAt is null
            ? await keys.UpdateAsync(current, patch, context.CurrentPrincipal().Actor, context.RequestAborted)
            : null;
        return updated is null
            ? new KeyBrakeError(StatusCodes.Status409Conflict, "key_revoked", $"Key {id} is revoked; a revoked key's policy cannot change.")
            : AdminJson.Ok(await ViewAfterChangeAsync(updated, keys, spend, context.RequestAborted));
    }

    private static async Task<IResult> RevokeAsync(string id, string? reason, HttpContext context, KeyService keys, ISpendGate spend)
    {
        if (reason is { Length: > 1000 })
        {
            return KeyBrakeError.InvalidRequest([new("reason", "must be at most 1000 characters")]);
        }
        var revocation = await keys.RevokeAsync(id, reason, context.CurrentPrincipal().Actor, context.RequestAborted);
        return revocation.State switch
        {
            RevocationState.NotFound => NotFound(id),
            RevocationState.Pending => RevocationPending($"Key {id} is refused by this process now, but the store has not recorded the revocation yet; it is retried until it does.",
                writer => writer.WriteString("key_id", id)),
            _ => AdminJson.Ok(await ViewAfterChangeAsync(revocation.Keys[0], keys, spend, context.RequestAborted)),
        };
    }

    private static async Task<IResult> RevokeByLabelPrefixAsync(HttpContext context, KeyService keys)
    {
        var (body, error) = await AdminJson.ReadAsync(context);
        if (error is not null)
        {
            return error;
        }
        var errors = new List<FieldError>();
        string? prefix = null, reason = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("body", "must be a JSON object"));
        }
        else
        {
            prefix = body.TryGetProperty("label_prefix", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            if (string.IsNullOrEmpty(prefix) || prefix.Length > 200)
            {
                errors.Add(new("label_prefix", "is required: 1-200 characters (an empty prefix would revoke every key)"));
            }
            if (body.TryGetProperty("reason", out var r) && r.ValueKind != JsonValueKind.Null)
            {
                reason = r.ValueKind == JsonValueKind.String && r.GetString()!.Length <= 1000 ? r.GetString() : null;
                if (reason is null)
                {
                    errors.Add(new("reason", "must be a string of at most 1000 characters"));
                }
            }
            foreach (var property in body.EnumerateObject().Where(x => x.Name is not ("label_prefix" or "reason")))
            {
                errors.Add(new(property.Name, "is not a known field (known: label_prefix, reason)"));
            }
        }
        if (errors.Count > 0)
        {
            return KeyBrakeError.InvalidRequest(errors);
        }
        var revocation = await keys.RevokeByLabelPrefixAsync(prefix!, reason, context.CurrentPrincipal().Actor, context.RequestAborted);
        return revocation.State == RevocationState.Pending
            ? RevocationPending($"Every key whose label starts with '{prefix}' is refused by this process now, but the store has not recorded the revocation yet; it is retried until it does.",
                writer => writer.WriteString("label_prefix", prefix))
            : AdminJson.Ok(new { revoked = revocation.Keys.Select(k => k.Id) });
    }

    /// <summary>SPEC §3: 503 revocation_pending (retryable; repeating the call is safe) while the store has not taken it.</summary>
    private static KeyBrakeError RevocationPending(string message, Action<System.Text.Json.Utf8JsonWriter> extra) =>
        new(StatusCodes.Status503ServiceUnavailable, "revocation_pending", message, extra);

    internal static async Task<KeyView> ViewAsync(VaultKey key, KeyService keys, ISpendGate spend, CancellationToken ct, string? token = null)
    {
        var (spent, reserved) = await spend.TodayAsync(key, ct);
        return KeyView.From(key, keys.Now, spent, reserved, token);
    }

    /// <summary>
    /// The answer to a change that is already durable: a ledger that cannot be read now (store unreachable, a day that
    /// cannot be opened) must not turn it into a failure (SPEC §3: a revocation never fails because of a busy or full
    /// store), so the spend figures are null instead.
    /// </summary>
    private static async Task<KeyView> ViewAfterChangeAsync(VaultKey key, KeyService keys, ISpendGate spend, CancellationToken ct)
    {
        try
        {
            return await ViewAsync(key, keys, spend, ct);
        }
        catch (Exception e) when (SpendUnavailableException.IsStoreFailure(e))
        {
            return KeyView.From(key, keys.Now, null, null);
        }
    }

    internal static bool TryParseStatus(string text, out KeyStatus status)
    {
        status = text switch { "active" => KeyStatus.Active, "expired" => KeyStatus.Expired, "revoked" => KeyStatus.Revoked, _ => (KeyStatus)(-1) };
        return (int)status >= 0;
    }

    private static KeyBrakeError NotFound(string id) =>
        new(StatusCodes.Status404NotFound, "key_not_found", $"No key with id '{id}'.");
}

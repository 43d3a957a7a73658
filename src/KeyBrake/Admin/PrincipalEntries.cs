using KeyBrake.Audit;

namespace KeyBrake.Admin;

/// <summary>The <c>principal.*</c> entries (SPEC §7).</summary>
internal static class PrincipalEntries
{
    public static AuditEntry PrincipalCreated(Principal principal, string ts) => new()
    {
        Ts = ts,
        Type = AuditTypes.PrincipalCreated,
        Actor = principal.CreatedBy,
        Details = Details.Object(d => d
            .Add("name", principal.Name)
            .Add("roles", Principal.RolesText(principal.Roles).Split(',', StringSplitOptions.RemoveEmptyEntries))),
    };

    public static AuditEntry PrincipalDisabled(string name, string actor, string ts) => new()
    {
        Ts = ts,
        Type = AuditTypes.PrincipalDisabled,
        Actor = actor,
        Details = Details.Object(d => d.Add("name", name)),
    };
}

using KeyBrake.Admin;

namespace KeyBrake.Storage;

/// <summary>A principal as every engine stores it (table <c>principals</c>): roles as text, instants as timestamp text.</summary>
public sealed class PrincipalRow
{
    public string Name { get; set; } = "";
    public string Roles { get; set; } = "";
    public string CreatedAt { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public string? DisabledAt { get; set; }

    /// <summary>The parameters of an INSERT: <c>@name, @tokenHash, @roles, @createdAt, @createdBy</c>.</summary>
    public static object Parameters(Principal principal, string tokenHash) => new
    {
        name = principal.Name,
        tokenHash,
        roles = Principal.RolesText(principal.Roles),
        createdAt = Timestamps.ToText(principal.CreatedAt),
        createdBy = principal.CreatedBy,
    };

    public Principal ToPrincipal() =>
        new(Name, Principal.ParseRolesText(Roles), Timestamps.Parse(CreatedAt), CreatedBy, Timestamps.ParseOrNull(DisabledAt));
}

namespace KeyBrake.Admin;

/// <summary>Someone who calls the admin API. Like vault keys, its token is stored only as a SHA-256 hash.</summary>
public sealed record Principal(string Name, Roles Roles, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? DisabledAt)
{
    public string Actor => "principal:" + Name;

    public static string RolesText(Roles roles) =>
        string.Join(",", Enum.GetValues<Roles>().Where(r => r is not (Roles.None or Roles.All) && roles.HasFlag(r)).Select(r => r.ToString().ToLowerInvariant()));

    public static bool TryParseRole(string text, out Roles role)
    {
        role = text switch { "operator" => Roles.Operator, "auditor" => Roles.Auditor, "admin" => Roles.Admin, _ => Roles.None };
        return role != Roles.None;
    }

    public static Roles ParseRolesText(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries).Aggregate(Roles.None, (all, r) => TryParseRole(r, out var role) ? all | role : all);
}

namespace KeyBrake.Admin;

[Flags]
public enum Roles
{
    None = 0,
    Operator = 1,
    Auditor = 2,
    Admin = 4,
    All = Operator | Auditor | Admin,
}

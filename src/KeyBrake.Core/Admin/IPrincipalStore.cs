namespace KeyBrake.Admin;

public interface IPrincipalStore
{
    Task<Principal?> FindByTokenHashAsync(string tokenHash, CancellationToken cancellationToken);

    Task<IReadOnlyList<Principal>> ListAsync(CancellationToken cancellationToken);

    /// <summary>False when a principal of that name exists.</summary>
    Task<bool> InsertAsync(Principal principal, string tokenHash, CancellationToken cancellationToken);

    /// <summary>Creates or replaces (token and roles) a principal: the configured bootstrap principal.</summary>
    Task UpsertAsync(Principal principal, string tokenHash, CancellationToken cancellationToken);

    Task<bool> DisableAsync(string name, DateTimeOffset at, CancellationToken cancellationToken);

    Task<long> CountAsync(CancellationToken cancellationToken);
}

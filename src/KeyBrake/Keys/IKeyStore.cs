namespace KeyBrake.Keys;

/// <summary>Vault key persistence. SQLite today; a PostgreSQL store for several replicas implements the same.</summary>
internal interface IKeyStore
{
    Task InsertAsync(VaultKey key, CancellationToken cancellationToken);

    Task<VaultKey?> FindByIdAsync(string id, CancellationToken cancellationToken);

    Task<VaultKey?> FindByTokenHashAsync(string tokenHash, CancellationToken cancellationToken);

    Task<IReadOnlyList<VaultKey>> ListAsync(KeyQuery query, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Replaces the policy of a key that is not revoked; false when it is revoked or missing.</summary>
    Task<bool> UpdatePolicyAsync(VaultKey updated, CancellationToken cancellationToken);

    /// <summary>Revokes the keys that are not revoked yet and returns them as revoked.</summary>
    Task<IReadOnlyList<VaultKey>> RevokeAsync(KeyRevocation revocation, CancellationToken cancellationToken);
}

internal sealed record KeyQuery(KeyStatus? Status, string? Vendor, string? LabelPrefix, int Limit);

/// <summary>Either one key (<see cref="Id"/>) or every key whose label starts with <see cref="LabelPrefix"/>.</summary>
internal sealed record KeyRevocation(string? Id, string? LabelPrefix, DateTimeOffset At, string By, string? Reason);

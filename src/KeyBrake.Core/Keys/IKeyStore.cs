namespace KeyBrake.Keys;

/// <summary>Vault key persistence. SQLite today; a PostgreSQL store for several replicas implements the same.</summary>
public interface IKeyStore
{
    Task InsertAsync(VaultKey key, CancellationToken cancellationToken);

    Task<VaultKey?> FindByIdAsync(string id, CancellationToken cancellationToken);

    Task<VaultKey?> FindByTokenHashAsync(string tokenHash, CancellationToken cancellationToken);

    Task<IReadOnlyList<VaultKey>> ListAsync(KeyQuery query, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Replaces the policy of a key that is not revoked; false when it is revoked or missing.</summary>
    Task<bool> UpdatePolicyAsync(VaultKey updated, CancellationToken cancellationToken);

    /// <summary>
    /// Revokes the keys that are not revoked yet and returns them as revoked; by prefix, only keys created at or before
    /// <see cref="KeyRevocation.At"/>. Fails fast (about a second) on a busy store: the host's revocation writer retries.
    /// </summary>
    Task<IReadOnlyList<VaultKey>> RevokeAsync(KeyRevocation revocation, CancellationToken cancellationToken);

    /// <summary>Keys past <c>expires_at</c> whose <c>key.expired</c> is not recorded, except keys revoked before they expired.</summary>
    Task<IReadOnlyList<VaultKey>> ListUnrecordedExpiriesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Records that the key's <c>key.expired</c> entry is in the chain (the sweep never writes it again).</summary>
    Task MarkExpiryRecordedAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);
}

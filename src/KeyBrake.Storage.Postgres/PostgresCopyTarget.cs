namespace KeyBrake.Storage.Postgres;

/// <summary>The PostgreSQL database a SQLite deployment is copied into (<c>KeyBrake storage copy --from-sqlite</c>, SPEC §9).</summary>
internal sealed class PostgresCopyTarget(PostgresDatabase database) : IStoreCopyTarget
{
    public async Task<IStoreCopy> BeginAsync(CancellationToken cancellationToken) => await PostgresStoreCopy.BeginAsync(database, cancellationToken);
}

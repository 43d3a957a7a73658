using Dapper;
using KeyBrake.Admin;
using Microsoft.Data.Sqlite;

namespace KeyBrake.Storage.Sqlite;

internal sealed class SqlitePrincipalStore(SqliteDatabase database) : IPrincipalStore
{
    private const string Columns = "name, roles, created_at, created_by, disabled_at";

    public async Task<Principal?> FindByTokenHashAsync(string tokenHash, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<PrincipalRow>(new CommandDefinition(
            $"SELECT {Columns} FROM principals WHERE token_hash = @tokenHash", new { tokenHash }, cancellationToken: cancellationToken));
        return row?.ToPrincipal();
    }

    public async Task<IReadOnlyList<Principal>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<PrincipalRow>(new CommandDefinition(
            $"SELECT {Columns} FROM principals ORDER BY name", cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToPrincipal())];
    }

    public async Task<bool> InsertAsync(Principal principal, string tokenHash, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO principals (name, token_hash, roles, created_at, created_by) VALUES (@name, @tokenHash, @roles, @createdAt, @createdBy)",
                PrincipalRow.Parameters(principal, tokenHash), cancellationToken: cancellationToken));
            return true;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19) // SQLITE_CONSTRAINT
        {
            return false;
        }
    }

    public async Task UpsertAsync(Principal principal, string tokenHash, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO principals (name, token_hash, roles, created_at, created_by) VALUES (@name, @tokenHash, @roles, @createdAt, @createdBy)
            ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, roles = excluded.roles, disabled_at = NULL
            """,
            PrincipalRow.Parameters(principal, tokenHash), cancellationToken: cancellationToken));
    }

    public async Task<bool> DisableAsync(string name, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE principals SET disabled_at = @at WHERE name = @name AND disabled_at IS NULL",
            new { name, at = Timestamps.ToText(at) }, cancellationToken: cancellationToken)) == 1;
    }

    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM principals", cancellationToken: cancellationToken));
    }
}

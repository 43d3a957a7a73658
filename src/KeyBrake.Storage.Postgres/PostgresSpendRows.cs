using KeyBrake.Audit;
using Npgsql;
using NpgsqlTypes;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// Spend claims as one call of <c>keybrake_spend_apply</c> (migration 2): the claims' rows locked in key order, each
/// claim decided in arrival order against the figures the one before it left, each row written once. Used inside the
/// chain writer's batch (<see cref="PostgresAuditChainStore.Begin"/>) and by the ledger's own single claims.
/// </summary>
internal static class PostgresSpendRows
{
    public const string ApplySql = "SELECT ord, granted, spent, reserved FROM keybrake_spend_apply($1, $2, $3, $4, $5)";

    /// <summary>A row held by something outside KeyBrake fails the batch after this long instead of holding up the chain.</summary>
    public const string LockTimeoutSql = "SELECT set_config('lock_timeout', '5s', true)"; // SET LOCAL, as a row: one result per command

    public static NpgsqlBatchCommand Apply(IReadOnlyList<SpendClaim> claims)
    {
        var command = new NpgsqlBatchCommand(ApplySql);
        var p = command.Parameters;
        p.Add(new NpgsqlParameter<string[]> { TypedValue = [.. claims.Select(c => c.KeyId)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new NpgsqlParameter<DateOnly[]> { TypedValue = [.. claims.Select(c => c.Day)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Date });
        p.Add(new NpgsqlParameter<long[]> { TypedValue = [.. claims.Select(c => c.Estimate)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        p.Add(new NpgsqlParameter<long?[]> { TypedValue = [.. claims.Select(c => c.Cap)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        p.Add(new NpgsqlParameter<long[]> { TypedValue = [.. claims.Select(c => c.Counted)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        return command;
    }

    /// <summary>Sets each claim's outcome from the function's rows; a claim whose day has no row is left undecided (null).</summary>
    public static void ReadOutcomes(NpgsqlDataReader reader, IReadOnlyList<SpendClaim> claims)
    {
        foreach (var claim in claims)
        {
            claim.Outcome = null;
        }
        while (reader.Read())
        {
            if (!reader.IsDBNull(1))
            {
                claims[(int)reader.GetInt64(0) - 1].Outcome = new SpendOutcome(reader.GetBoolean(1), reader.GetInt64(2), reader.GetInt64(3));
            }
        }
    }
}

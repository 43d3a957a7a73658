using KeyBrake.Audit;
using Npgsql;
using NpgsqlTypes;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// Spend claims as one call of <c>keybrake_spend_decide</c> (migration 3; inside the chain writer's batch,
/// <see cref="PostgresAuditChainStore.Begin"/>) or <c>keybrake_spend_apply</c> (migration 2; the ledger's own single
/// claims): the claims' rows locked in key order, each claim decided in arrival order against the figures the one before
/// it left, each row written once.
/// </summary>
internal static class PostgresSpendRows
{
    /// <summary>The port's own statements (one claim each): a row held elsewhere is waited for, up to the pool's lock_timeout.</summary>
    private const string ApplySql = "SELECT ord, granted, spent, reserved, false FROM keybrake_spend_apply($1, $2, $3, $4, $5)";

    /// <summary>The chain's batches (migration 3): a row held by another session is skipped, its claims busy.</summary>
    private const string DecideSql = "SELECT ord, granted, spent, reserved, busy FROM keybrake_spend_decide($1, $2, $3, $4, $5)";

    public static NpgsqlBatchCommand Apply(IReadOnlyList<SpendClaim> claims) => Command(ApplySql, claims);

    public static NpgsqlBatchCommand Decide(IReadOnlyList<SpendClaim> claims) => Command(DecideSql, claims);

    private static NpgsqlBatchCommand Command(string sql, IReadOnlyList<SpendClaim> claims)
    {
        var command = new NpgsqlBatchCommand(sql);
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
            (claim.Outcome, claim.Busy) = (null, false);
        }
        while (reader.Read())
        {
            var claim = claims[(int)reader.GetInt64(0) - 1];
            claim.Busy = reader.GetBoolean(4);
            if (!reader.IsDBNull(1))
            {
                claim.Outcome = new SpendOutcome(reader.GetBoolean(1), reader.GetInt64(2), reader.GetInt64(3));
            }
        }
    }
}

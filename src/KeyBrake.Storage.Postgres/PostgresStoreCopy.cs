using System.Globalization;
using System.Runtime.CompilerServices;
using Dapper;
using KeyBrake.Audit;
using Npgsql;
using NpgsqlTypes;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// A copy's one transaction on PostgreSQL (SPEC §9 "Moving up"): binary COPY for the rows, and every read inside the
/// same transaction, so the copy is read back and verified before anything becomes visible.
/// </summary>
internal sealed class PostgresStoreCopy : IStoreCopy
{
    /// <summary>The tables a deployment fills: any row in one of them and the target is not empty.</summary>
    private static readonly string[] Filled = ["principals", "vault_keys", "audit_entries", "audit_checkpoints", "spend_days"];

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    private PostgresStoreCopy(NpgsqlConnection connection, NpgsqlTransaction transaction) => (_connection, _transaction) = (connection, transaction);

    public static async Task<PostgresStoreCopy> BeginAsync(PostgresDatabase database, CancellationToken cancellationToken)
    {
        var connection = await database.OpenAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // A replica started too early, or a second copy, waits here until this one is done and then finds the
            // target filled. The chain lock first, as every replica's audit batch takes it before writing, so the two
            // never wait for each other in opposite orders; a lock_timeout instead of waiting forever on a running deployment.
            await connection.ExecuteAsync(new CommandDefinition(
                $"SET LOCAL lock_timeout = '10s'; SELECT pg_advisory_xact_lock(@ChainLock); LOCK TABLE {string.Join(", ", Filled)} IN EXCLUSIVE MODE",
                new { PostgresAuditChainStore.ChainLock }, transaction, cancellationToken: cancellationToken));
            return new PostgresStoreCopy(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task<IReadOnlyDictionary<string, long>> CountRowsAsync(CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in Filled)
        {
            counts[table] = await _connection.ExecuteScalarAsync<long>(new CommandDefinition(
                $"SELECT count(*) FROM {table}", transaction: _transaction, cancellationToken: cancellationToken));
        }
        return counts;
    }

    public async Task WriteAsync(StoredTable table, CancellationToken cancellationToken)
    {
        if (!StoredTable.Copied.Contains(table.Name))
        {
            throw new StoreCopyRefusedException($"{table.Name} is not a table a copy writes.");
        }
        var types = await ColumnTypesAsync(table.Name, cancellationToken);
        if (!types.Keys.Order(StringComparer.Ordinal).SequenceEqual(table.Columns.Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            throw new StoreCopyRefusedException(
                $"{table.Name}: the source's columns ({string.Join(", ", table.Columns)}) are not the target's ({string.Join(", ", types.Keys)}); both must be this version of KeyBrake.");
        }
        var columnTypes = table.Columns.Select(c => (Name: c, Type: types[c])).ToArray();
        await using var import = await _connection.BeginBinaryImportAsync(
            $"COPY {table.Name} ({string.Join(", ", table.Columns)}) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var row in table.Rows)
        {
            await import.StartRowAsync(cancellationToken);
            for (var i = 0; i < row.Length; i++)
            {
                await WriteValueAsync(import, table.Name, columnTypes[i], row[i], cancellationToken);
            }
        }
        await import.CompleteAsync(cancellationToken);
    }

    public async Task<long> WriteChainAsync(IAsyncEnumerable<AuditEntry> entries, CancellationToken cancellationToken)
    {
        long count = 0;
        await using var import = await _connection.BeginBinaryImportAsync(PostgresAuditRows.CopySql, cancellationToken);
        await foreach (var e in entries.WithCancellation(cancellationToken))
        {
            PostgresAuditRows.Write(import, e); // buffered; the importer flushes as it fills
            count++;
        }
        await import.CompleteAsync(cancellationToken);
        return count;
    }

    public async Task WriteCheckpointsAsync(IReadOnlyList<Checkpoint> checkpoints, CancellationToken cancellationToken)
    {
        await using var import = await _connection.BeginBinaryImportAsync("COPY audit_checkpoints (seq, hash, ts, signature) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var c in checkpoints)
        {
            await import.WriteRowAsync(cancellationToken, c.Seq, c.Hash, c.Ts, c.Signature);
        }
        await import.CompleteAsync(cancellationToken);
    }

    public async Task<StoredTable> ReadAsync(string table, CancellationToken cancellationToken)
    {
        if (!StoredTable.Copied.Contains(table))
        {
            throw new StoreCopyRefusedException($"{table} is not a table a copy writes.");
        }
        await using var command = new NpgsqlCommand($"SELECT * FROM {table}", _connection, _transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var row = new object?[columns.Count];
            for (var i = 0; i < row.Length; i++)
            {
                // As the source engine hands them over: text, or a 64-bit integer whatever the column's width.
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i) switch { int n => (long)n, var value => value };
            }
            rows.Add(row);
        }
        return new StoredTable(table, columns, rows);
    }

    public async Task<IReadOnlyList<Checkpoint>> ReadCheckpointsAsync(CancellationToken cancellationToken) =>
        [.. await _connection.QueryAsync<Checkpoint>(new CommandDefinition(
            "SELECT seq, hash, ts, signature FROM audit_checkpoints ORDER BY seq", transaction: _transaction, cancellationToken: cancellationToken))];

    public async Task FeedAsync(AuditVerifier verifier, CancellationToken cancellationToken)
    {
        await foreach (var entry in ReadChainAsync(cancellationToken))
        {
            if (!verifier.Add(entry))
            {
                return;
            }
        }
    }

    public Task CommitAsync(CancellationToken cancellationToken) => _transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync(); // rolls back what was not committed
        await _connection.DisposeAsync();
    }

    private async IAsyncEnumerable<AuditEntry> ReadChainAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {Fields.Names} FROM audit_entries ORDER BY seq", _connection, _transaction);
        await using var r = await command.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            yield return PostgresAuditRows.Read(r);
        }
    }

    private async Task<Dictionary<string, NpgsqlDbType>> ColumnTypesAsync(string table, CancellationToken cancellationToken)
    {
        var columns = await _connection.QueryAsync<(string Name, string Type)>(new CommandDefinition(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table",
            new { table }, _transaction, cancellationToken: cancellationToken));
        return columns.ToDictionary(c => c.Name, c => c.Type switch
        {
            "text" => NpgsqlDbType.Text,
            "bigint" => NpgsqlDbType.Bigint,
            "integer" => NpgsqlDbType.Integer,
            _ => throw new StoreCopyRefusedException($"{table}.{c.Name} is a {c.Type} column, which a copy does not know how to fill."),
        }, StringComparer.Ordinal);
    }

    private static async Task WriteValueAsync(NpgsqlBinaryImporter import, string table, (string Name, NpgsqlDbType Type) column, object? value, CancellationToken cancellationToken)
    {
        switch (column.Type, value)
        {
            case (_, null):
                await import.WriteNullAsync(cancellationToken);
                break;
            case (NpgsqlDbType.Text, string text):
                await import.WriteAsync(text, NpgsqlDbType.Text, cancellationToken);
                break;
            case (NpgsqlDbType.Bigint, long number):
                await import.WriteAsync(number, NpgsqlDbType.Bigint, cancellationToken);
                break;
            case (NpgsqlDbType.Integer, long number) when number is >= int.MinValue and <= int.MaxValue:
                await import.WriteAsync((int)number, NpgsqlDbType.Integer, cancellationToken);
                break;
            default:
                throw new StoreCopyRefusedException(string.Create(CultureInfo.InvariantCulture,
                    $"{table}.{column.Name} ({column.Type}) cannot hold the source's {value.GetType().Name} '{value}'."));
        }
    }
}

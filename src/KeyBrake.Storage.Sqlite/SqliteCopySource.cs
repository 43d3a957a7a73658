using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;

namespace KeyBrake.Storage.Sqlite;

/// <summary>
/// A stopped SQLite deployment read for <c>KeyBrake storage copy</c> (SPEC §9): its tables as stored. Reads only; the
/// file is never migrated here, so a database from another version is refused rather than changed.
/// </summary>
internal sealed class SqliteCopySource(SqliteDatabase database) : IStoreCopySource
{
    public IReadOnlyList<StoredTable> ReadTables()
    {
        using var connection = database.Open();
        var expected = SqliteMigrations.All.Max(m => m.Version);
        var migrated = connection.ExecuteScalar<long>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") > 0;
        var version = migrated ? connection.ExecuteScalar<long?>("SELECT max(version) FROM schema_migrations") ?? 0 : 0;
        if (version != expected)
        {
            throw new StoreCopyRefusedException(string.Create(CultureInfo.InvariantCulture,
                $"{database.FilePath} is at schema version {version}, this KeyBrake's is {expected}: start this version of KeyBrake on it once (it migrates the file), stop it, then copy."));
        }
        return [.. StoredTable.Copied.Select(table => Read(connection, table))];
    }

    private static StoredTable Read(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM {table}"; // a name from StoredTable.Copied, never input
        using var reader = command.ExecuteReader();
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var row = new object?[columns.Count];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i) switch
                {
                    string text => text,
                    long number => number,
                    // Deny by default: a REAL or a BLOB is nothing KeyBrake writes; copied, it would change.
                    var other => throw new StoreCopyRefusedException($"{table}.{columns[i]} holds a {other.GetType().Name}, which KeyBrake never stores: the file was edited by hand."),
                };
            }
            rows.Add(row);
        }
        return new StoredTable(table, columns, rows);
    }
}

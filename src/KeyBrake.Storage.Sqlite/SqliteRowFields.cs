using KeyBrake.Audit;
using SQLitePCL;

namespace KeyBrake.Storage.Sqlite;

/// <summary>
/// The current row of a statement over <see cref="Fields.Names"/>, read through SQLite's own column API:
/// text columns are the stored UTF-8 bytes, never turned into strings. What makes verify fast.
/// </summary>
internal readonly unsafe ref struct SqliteRowFields(sqlite3_stmt statement) : IEntryFields
{
    private readonly IntPtr _statement = statement.DangerousGetHandle();

    public bool IsNull(int field) => SqliteColumns.sqlite3_column_type(_statement, field) == raw.SQLITE_NULL;

    public ReadOnlySpan<byte> Utf8(int field)
    {
        var bytes = SqliteColumns.sqlite3_column_blob(_statement, field);
        return bytes == null ? [] : new ReadOnlySpan<byte>(bytes, SqliteColumns.sqlite3_column_bytes(_statement, field));
    }

    public long Number(int field) => SqliteColumns.sqlite3_column_int64(_statement, field);
}

using SQLitePCL;

namespace KeyBrake.Audit;

/// <summary>
/// The current row of a statement over <see cref="SqliteAuditStore.Columns"/>, read through SQLite's own API: text
/// columns are the stored UTF-8 bytes, never turned into strings. What makes verify fast.
/// </summary>
public readonly ref struct SqliteRowFields(sqlite3_stmt statement) : IEntryFields
{
    public bool IsNull(int field) => raw.sqlite3_column_type(statement, field) == raw.SQLITE_NULL;

    public ReadOnlySpan<byte> Utf8(int field) => raw.sqlite3_column_blob(statement, field);

    public long Number(int field) => raw.sqlite3_column_int64(statement, field);
}

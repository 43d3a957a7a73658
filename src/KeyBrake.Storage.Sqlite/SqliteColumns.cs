using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KeyBrake.Storage.Sqlite;

/// <summary>
/// The same e_sqlite3 library SQLitePCL has loaded, called directly: these accessors only read the current row
/// (no locks, no callbacks), so they may skip the GC transition, which is most of a P/Invoke's cost at 21 per row.
/// </summary>
internal static unsafe partial class SqliteColumns
{
    private const string Library = "e_sqlite3";

    [LibraryImport(Library), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial byte* sqlite3_column_blob(IntPtr statement, int column);

    [LibraryImport(Library), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int sqlite3_column_bytes(IntPtr statement, int column);

    [LibraryImport(Library), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int sqlite3_column_type(IntPtr statement, int column);

    [LibraryImport(Library), SuppressGCTransition, UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial long sqlite3_column_int64(IntPtr statement, int column);
}

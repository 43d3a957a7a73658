using System.Security.Cryptography;
using KeyBrake.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace KeyBrake.Audit.Tests;

/// <summary>The SQLite engine's chain store and reader on one database file, as the host wires them.</summary>
internal static class SqliteChain
{
    public static SqliteDatabase Database(string path) => new(new SqliteStoreOptions { Path = path }, NullLogger<SqliteDatabase>.Instance);

    public static IAuditReader Reader(string path) => new SqliteAuditReader(Database(path));

    public static IAuditChainStore Store(string path) => new SqliteAuditChainStore(Database(path), NullLogger<SqliteAuditChainStore>.Instance);

    public static AuditWriter Writer(AuditWriterOptions options, string path, ECDsa key) =>
        new(options, Store(path), Reader(path), key, TimeProvider.System, NullLogger.Instance);
}

using Microsoft.Extensions.Options;

namespace KeyBrake.Storage;

/// <summary>
/// SPEC §2 <c>KeyBrake:DataDirectory</c>: KeyBrake's local files, and by default the SQLite database. Owner-only: the
/// directory and every directory in it 0700, every file 0600. What an older version left more open (v1 made
/// <c>data/</c> 0755 and the database, WAL and checkpoints 0644) is tightened at start.
/// </summary>
internal sealed partial class DataDirectory
{
    public const string DefaultPath = "data";
    public const string DatabaseFile = "keybrake.db";
    public const string AdminTokenFile = "admin-token";
    public const string SigningKeyFile = "audit-signing-key.pem";
    public const string CheckpointsFile = "checkpoints.ndjson";
    public const string KeyRingDirectory = "dataprotection-keys";

    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>SQLite's files beside the database; SQLite creates the WAL and shared memory with the database's own mode.</summary>
    private static readonly string[] DatabaseSidecars = ["", "-wal", "-shm", "-journal"];

    /// <summary>KeyBrake's own files here besides the database; v1 kept them beside the database.</summary>
    private static readonly string[] V1Files = [AdminTokenFile, SigningKeyFile, CheckpointsFile];

    private readonly ILogger<DataDirectory> _logger;

    public DataDirectory(IOptions<KeyBrakeOptions> options, IHostEnvironment environment, ILogger<DataDirectory> logger)
    {
        _logger = logger;
        (FullPath, DatabasePath) = Resolve(options.Value, environment.ContentRootPath);
        HoldsDatabase = options.Value.Storage.Provider == StorageOptions.SqliteProvider;
    }

    /// <summary>False on a database server (Postgres): the directory then holds only KeyBrake's own files.</summary>
    public bool HoldsDatabase { get; }

    public string FullPath { get; }

    /// <summary>The SQLite database: <c>KeyBrake:Storage:Sqlite:Path</c>, else <c>{DataDirectory}/keybrake.db</c>.</summary>
    public string DatabasePath { get; }

    public string File(string name) => Path.Combine(FullPath, name);

    /// <summary>
    /// Both paths, relative ones resolved against <paramref name="contentRoot"/> (the working directory unless the host
    /// is told otherwise). With no <c>DataDirectory</c> but a <c>Sqlite:Path</c> (a v1 deployment), the data directory
    /// is the database's directory, where v1 kept admin-token, the signing key and checkpoints.ndjson: a new signing key
    /// elsewhere would not verify the checkpoints already stored, and proxy traffic would stop.
    /// </summary>
    public static (string Directory, string Database) Resolve(KeyBrakeOptions options, string contentRoot)
    {
        var database = options.Storage.Sqlite.Path is { } configured ? Path.GetFullPath(configured, contentRoot) : null;
        var directory = Path.GetFullPath(options.DataDirectory ?? (database is null ? DefaultPath : Path.GetDirectoryName(database)!), contentRoot);
        return (directory, database ?? Path.Combine(directory, DatabaseFile));
    }

    /// <summary>
    /// Called once at start, before anything is written: creates the directory owner-only, tightens what is already in
    /// it, and makes sure the database file is 0600 before SQLite opens it (its WAL and shared memory copy that mode).
    /// </summary>
    public void Prepare()
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(FullPath);
            Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
            return;
        }
        Directory.CreateDirectory(FullPath, DirectoryMode);
        Restrict(FullPath, DirectoryMode);
        // Only what KeyBrake itself creates: a data directory shared with other files (or set to "." by mistake) keeps them as they are.
        foreach (var name in V1Files.Where(n => System.IO.File.Exists(File(n))))
        {
            Restrict(File(name), FileMode);
        }
        if (Directory.Exists(File(KeyRingDirectory)))
        {
            Tighten(new DirectoryInfo(File(KeyRingDirectory)));
        }
        if (HoldsDatabase)
        {
            PrepareDatabaseFile();
        }
    }

    /// <summary>The SQLite file, born 0600 before SQLite opens it (its WAL and shared memory copy that mode).</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private void PrepareDatabaseFile()
    {
        var databaseDirectory = Path.GetDirectoryName(DatabasePath)!;
        if (!Directory.Exists(databaseDirectory))
        {
            Directory.CreateDirectory(databaseDirectory, DirectoryMode);
        }
        if (!System.IO.File.Exists(DatabasePath))
        {
            // An empty file is a new database to SQLite; created here, it is born 0600 whatever the umask.
            new FileStream(DatabasePath, new FileStreamOptions
            {
                Mode = System.IO.FileMode.OpenOrCreate, Access = FileAccess.Write, UnixCreateMode = FileMode, // another instance may race
            }).Dispose();
        }
        foreach (var suffix in DatabaseSidecars)
        {
            if (System.IO.File.Exists(DatabasePath + suffix))
            {
                Restrict(DatabasePath + suffix, FileMode); // also a database outside the data directory
            }
        }
        if (!string.Equals(databaseDirectory, FullPath, StringComparison.Ordinal))
        {
            foreach (var name in V1Files.Where(n => System.IO.File.Exists(Path.Combine(databaseDirectory, n)) && !System.IO.File.Exists(File(n))))
            {
                Log.V1FileLeftBehind(_logger, name, databaseDirectory, FullPath);
            }
        }
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private void Tighten(DirectoryInfo directory)
    {
        Restrict(directory.FullName, DirectoryMode);
        foreach (var entry in directory.EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null)
            {
                continue; // a link's target is not KeyBrake's to change
            }
            if (entry is DirectoryInfo child)
            {
                Tighten(child);
            }
            else
            {
                Restrict(entry.FullName, FileMode);
            }
        }
    }

    /// <summary>Only ever removes permissions: group and other bits, and execute on files.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private void Restrict(string path, UnixFileMode allowed)
    {
        try
        {
            var mode = System.IO.File.GetUnixFileMode(path);
            if ((mode & ~allowed) != 0)
            {
                System.IO.File.SetUnixFileMode(path, mode & allowed);
                Log.Tightened(_logger, path, mode, mode & allowed);
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // E.g. a volume's root owned by root (Kubernetes fsGroup): KeyBrake's own files in it are still 0600.
            Log.CannotTighten(_logger, path, e.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "Tightened {Path} from {From} to {To}: KeyBrake's data directory is owner-only")]
        public static partial void Tightened(ILogger logger, string path, UnixFileMode from, UnixFileMode to);

        [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "Could not make {Path} owner-only ({Problem}); make it 0700 (a directory) or 0600 (a file) yourself")]
        public static partial void CannotTighten(ILogger logger, string path, string problem);

        [LoggerMessage(EventId = 1013, Level = LogLevel.Warning, Message = "{File} is beside the database in {DatabaseDirectory} but not in KeyBrake:DataDirectory {DataDirectory}; move it there (v1 kept it beside the database)")]
        public static partial void V1FileLeftBehind(ILogger logger, string file, string databaseDirectory, string dataDirectory);
    }
}

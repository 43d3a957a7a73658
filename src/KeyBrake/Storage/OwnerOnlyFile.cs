using System.Runtime.InteropServices;

namespace KeyBrake.Storage;

/// <summary>
/// SPEC §2: every file KeyBrake creates under DataDirectory is 0600 (credentials among them: the admin token, the audit
/// signing key), every directory 0700.
/// </summary>
internal static partial class OwnerOnlyFile
{
    /// <summary>Group and other: no bits. SQLite, the Data Protection key ring and the runtime then create owner-only too.</summary>
    private const uint OwnerOnlyUmask = 0b000_111_111; // 077

    public static void Write(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = DataDirectory.FileMode;
        }
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, DataDirectory.FileMode); // also when the file existed
        }
    }

    /// <summary>
    /// The server process's umask, set first thing in Program.cs: whatever creates a file in this process (SQLite,
    /// ASP.NET Core) creates it owner-only. The files KeyBrake writes itself also name their mode, so a host that
    /// embeds KeyBrake without this (the end-to-end tests) gets the same modes.
    /// </summary>
    public static void RestrictProcessUmask()
    {
        if (!OperatingSystem.IsWindows())
        {
            _ = Umask(OwnerOnlyUmask);
        }
    }

    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);
}

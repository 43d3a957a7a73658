using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KeyBrake.Audit;

/// <summary>
/// <c>{DataDirectory}/checkpoints.ndjson</c>: one checkpoint per line, appended and flushed to disk; created 0600 like
/// every file KeyBrake writes there (SPEC §2).
/// </summary>
public static class CheckpointFile
{
    public static string ToLine(Checkpoint c) => string.Create(CultureInfo.InvariantCulture,
        $"{{\"seq\":{c.Seq},\"hash\":\"{c.Hash}\",\"ts\":\"{c.Ts}\",\"signature\":\"{c.Signature}\"}}");

    /// <summary>
    /// Appends a line. <paramref name="flushToDisk"/> (with <c>Synchronous=FULL</c>) also fsyncs it; otherwise it is as
    /// durable as the chain under <c>synchronous=NORMAL</c>: it survives a crash of the process, not of the machine.
    /// </summary>
    public static void Append(string path, Checkpoint checkpoint, bool flushToDisk)
    {
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var stream = new FileStream(path, options);
        stream.Write(Encoding.UTF8.GetBytes(ToLine(checkpoint) + "\n"));
        stream.Flush(flushToDisk);
    }

    /// <summary>
    /// Reads the file; a line that does not parse (a write torn by a crash) is reported through
    /// <paramref name="unreadable"/> and skipped.
    /// </summary>
    public static List<Checkpoint> Read(string path, Action<int>? unreadable = null)
    {
        var checkpoints = new List<Checkpoint>();
        if (!File.Exists(path))
        {
            return checkpoints;
        }
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            if (TryParse(line, out var checkpoint))
            {
                checkpoints.Add(checkpoint);
            }
            else
            {
                unreadable?.Invoke(number);
            }
        }
        return checkpoints;
    }

    public static bool TryParse(string line, out Checkpoint checkpoint)
    {
        checkpoint = null!;
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            checkpoint = new Checkpoint(
                root.GetProperty("seq").GetInt64(), root.GetProperty("hash").GetString()!,
                root.GetProperty("ts").GetString()!, root.GetProperty("signature").GetString()!);
            return true;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }
}

using System.Diagnostics;

namespace KeyBrake.EndToEnd.Tests.Keys;

/// <summary>
/// Another process holding the database: Debian's <c>sqlite3</c> command-line shell (package <c>sqlite3</c>, which
/// .ci/run installs) in <c>BEGIN EXCLUSIVE</c>, as an operator's shell or a backup tool would. In WAL mode that holds
/// the write lock; readers go on.
/// </summary>
internal sealed class SqliteExclusiveLock : IAsyncDisposable
{
    private readonly Process _process;

    private SqliteExclusiveLock(Process process) => _process = process;

    public static async Task<SqliteExclusiveLock> AcquireAsync(string databasePath)
    {
        var process = Process.Start(new ProcessStartInfo("sqlite3", [databasePath])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("sqlite3 did not start (install Debian's sqlite3 package)");
        var held = new SqliteExclusiveLock(process);
        // .timeout: wait for a commit of KeyBrake's in flight rather than fail at once. The SELECT answers only once
        // the lock is held, so the caller knows it is.
        await process.StandardInput.WriteLineAsync(".timeout 10000");
        await process.StandardInput.WriteLineAsync(".bail on");
        await process.StandardInput.WriteLineAsync("BEGIN EXCLUSIVE;");
        await process.StandardInput.WriteLineAsync("SELECT 'locked';");
        await process.StandardInput.FlushAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line == "locked")
            {
                return held;
            }
        }
        var error = await process.StandardError.ReadToEndAsync(timeout.Token);
        await held.DisposeAsync();
        throw new InvalidOperationException("sqlite3 could not take the lock: " + error);
    }

    /// <summary>Ends the transaction (nothing written stays) and the process: the database accepts writes again.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await _process.StandardInput.WriteLineAsync("ROLLBACK;");
            await _process.StandardInput.WriteLineAsync(".quit");
            await _process.StandardInput.FlushAsync();
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
            }
        }
        _process.Dispose();
    }
}

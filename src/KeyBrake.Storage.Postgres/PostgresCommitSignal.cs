using System.Globalization;
using KeyBrake.Audit;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// The live stream's commit signal on a shared chain (SPEC §7, §9: entries from every replica within 1 s). This
/// replica's writer reports its own commits to <see cref="InProcessCommitSignal"/> at once; this listener feeds it the
/// others': one connection LISTENs on <see cref="PostgresAuditRows.Channel"/> (each batch's commit notifies its head
/// seq), and when no notification came for <see cref="PostgresStoreOptions.HeadPollInterval"/> it reads the head
/// itself, which bounds the delay of a lost notification. A lost connection is reopened (after a pause that doubles up
/// to a few seconds), and the head read again, since notifications sent meanwhile are gone.
/// Started when first resolved and stopped when the provider is disposed, so it needs no generic host.
/// </summary>
internal sealed partial class PostgresCommitSignal : IAuditCommitSignal, IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan MaxReconnectPause = TimeSpan.FromSeconds(5);

    private readonly InProcessCommitSignal _signal;
    private readonly string _connectionString;
    private readonly TimeSpan _pollInterval;
    private readonly ILogger<PostgresCommitSignal> _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _disposed;

    public PostgresCommitSignal(PostgresDatabase database, InProcessCommitSignal signal, ILogger<PostgresCommitSignal> logger)
    {
        _signal = signal;
        _logger = logger;
        _pollInterval = database.Options.HeadPollInterval;
        _connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            Pooling = false, // a LISTEN session must not go back to a pool
            ApplicationName = "keybrake-audit-listener",
            KeepAlive = 10,
        }.ConnectionString;
        _loop = Task.Run(() => ListenAsync(_stop.Token));
    }

    public long HeadSeq => _signal.HeadSeq;

    public Task WaitForCommitAfterAsync(long seq, CancellationToken cancellationToken) => _signal.WaitForCommitAfterAsync(seq, cancellationToken);

    private async Task ListenAsync(CancellationToken stop)
    {
        var pause = TimeSpan.Zero;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                await connection.OpenAsync(stop);
                connection.Notification += (_, e) =>
                {
                    if (long.TryParse(e.Payload, NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
                    {
                        _signal.Committed(seq);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresAuditRows.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stop);
                }
                if (pause > TimeSpan.Zero)
                {
                    Log.Listening(_logger);
                }
                pause = TimeSpan.Zero;
                await using var head = new NpgsqlCommand("SELECT coalesce(max(seq), 0) FROM audit_entries", connection);
                while (true)
                {
                    // Read after LISTEN: a commit between the two is then seen one way or the other.
                    _signal.Committed((long)(await head.ExecuteScalarAsync(stop))!);
                    while (await connection.WaitAsync(_pollInterval, stop))
                    {
                        // notifications are handled by the event above; keep waiting while they come
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                pause = pause == TimeSpan.Zero ? TimeSpan.FromMilliseconds(100) : TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxReconnectPause.Ticks));
                Log.ListenerLost(_logger, pause.TotalMilliseconds, e);
                try
                {
                    await Task.Delay(pause, stop); // real time, not the host's clock: a reconnection pause, not a timestamp
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static partial class Log
    {
        [LoggerMessage(EventId = 5302, Level = LogLevel.Warning, Message = "The audit commit listener lost PostgreSQL; reconnecting in {PauseMs} ms (the live stream of other replicas' entries waits meanwhile)")]
        public static partial void ListenerLost(ILogger logger, double pauseMs, Exception exception);

        [LoggerMessage(EventId = 5303, Level = LogLevel.Information, Message = "The audit commit listener is listening again")]
        public static partial void Listening(ILogger logger);
    }
}

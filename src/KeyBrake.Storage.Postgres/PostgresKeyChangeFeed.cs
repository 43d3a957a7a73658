using System.Data.Common;
using System.Threading.Channels;
using KeyBrake.Keys;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace KeyBrake.Storage.Postgres;

/// <summary>
/// Key changes across replicas (SPEC §9, ISSUE-16): <see cref="Publish"/> reaches this process's subscribers before it
/// returns, then goes to the other replicas as a <c>NOTIFY keybrake_keys</c> sent by a background loop, so a revocation
/// never waits on nor fails because of the database (SPEC §3); the loop retries while the database is down. One
/// LISTEN connection per process hands the other replicas' changes to the subscribers.
/// A notification can still be missed (the LISTEN connection was lost; a replica died between its store write and its
/// NOTIFY), so subscribers get <see cref="KeyChange.All"/> when the LISTEN connection comes back and at least every
/// <see cref="PostgresStoreOptions.KeyCacheMaxAge"/>: the bound on serving a missed change.
/// Starts on the first Subscribe or Publish (no generic host needed) and stops when the provider disposes it.
/// </summary>
internal sealed partial class PostgresKeyChangeFeed : IKeyChangeFeed, IAsyncDisposable, IDisposable
{
    public const string Channel = "keybrake_keys";

    /// <summary>How long the first Subscribe waits for LISTEN, so no change between subscribing and listening is missed.</summary>
    private static readonly TimeSpan FirstListenWithin = TimeSpan.FromSeconds(5);

    /// <summary>A quiet LISTEN connection is checked this often: a dead one is noticed, and replaced, within it.</summary>
    private static readonly TimeSpan PingEvery = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(2);

    /// <summary>Queued changes still go out for this long when the provider is disposed.</summary>
    private static readonly TimeSpan DrainAtStop = TimeSpan.FromSeconds(2);

    private readonly InProcessKeyChangeFeed _local = new();
    private readonly Channel<KeyChange> _outbox = System.Threading.Channels.Channel.CreateUnbounded<KeyChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopListening = new();
    private readonly CancellationTokenSource _stopSending = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _firstListen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PostgresDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger<PostgresKeyChangeFeed> _logger;
    private readonly string _listenConnectionString;
    private bool _started;
    private bool _stopped;
    private bool _listenedOnce;
    private bool _firstListenMissed;
    private Task _sender = Task.CompletedTask;
    private Task _listener = Task.CompletedTask;
    private ITimer? _maxAge;

    public PostgresKeyChangeFeed(PostgresDatabase database, TimeProvider time, ILogger<PostgresKeyChangeFeed> logger)
    {
        _database = database;
        _time = time;
        _logger = logger;
        ProcessId = Guid.NewGuid().ToString("N");
        // Its own connection, outside the pool: LISTEN belongs to the session, and a lost one must not go back to a pool.
        _listenConnectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            Pooling = false,
            ApplicationName = ListenerName,
        }.ConnectionString;
    }

    /// <summary>This process's id in the notifications it sends: its own come back to it and are skipped.</summary>
    public string ProcessId { get; }

    /// <summary>The <c>application_name</c> of this process's LISTEN connection (what an operator sees in pg_stat_activity).</summary>
    public string ListenerName => "keybrake-keys-" + ProcessId[..12];

    public void Publish(KeyChange change)
    {
        Start();
        _local.Publish(change);
        _outbox.Writer.TryWrite(change); // unbounded: never blocks; false only once stopped
    }

    public IDisposable Subscribe(Action<KeyChange> onChange)
    {
        Start();
        var subscription = _local.Subscribe(onChange);
        WaitForFirstListen();
        return subscription;
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }
            _stopped = true;
        }
        _maxAge?.Dispose();
        await _stopListening.CancelAsync();
        _outbox.Writer.TryComplete();
        _stopSending.CancelAfter(DrainAtStop);
        await Task.WhenAll(_listener, _sender).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopListening.Dispose();
        _stopSending.Dispose();
    }

    private void Start()
    {
        lock (_gate)
        {
            if (_started || _stopped)
            {
                return;
            }
            _started = true;
            _sender = Task.Run(SendAsync);
            _listener = Task.Run(ListenAsync);
            _maxAge = _time.CreateTimer(_ => _local.Publish(KeyChange.All), null, _database.Options.KeyCacheMaxAge, _database.Options.KeyCacheMaxAge);
        }
    }

    /// <summary>
    /// The first subscriber waits (bounded) until LISTEN runs, so nothing it caches can miss a change made meanwhile.
    /// If LISTEN is not up in time, the subscribers get <see cref="KeyChange.All"/> once it is.
    /// </summary>
    private void WaitForFirstListen()
    {
        if (_firstListen.Task.IsCompleted || _firstListen.Task.Wait(FirstListenWithin))
        {
            return;
        }
        lock (_gate)
        {
            _firstListenMissed |= !_listenedOnce;
        }
    }

    private async Task ListenAsync()
    {
        var stopping = _stopListening.Token;
        var wait = FirstRetry;
        var lost = false;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_listenConnectionString);
                await connection.OpenAsync(stopping);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand("LISTEN " + Channel, connection))
                {
                    await listen.ExecuteNonQueryAsync(stopping);
                }
                OnListening(lost);
                (lost, wait) = (false, FirstRetry);
                while (true)
                {
                    if (!await connection.WaitAsync(PingEvery, stopping))
                    {
                        await using var ping = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = (int)PingEvery.TotalSeconds };
                        await ping.ExecuteScalarAsync(stopping);
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DbException or TimeoutException or IOException or InvalidOperationException)
            {
                if (!lost)
                {
                    Log.ListenLost(_logger, e.Message);
                }
                lost = true;
            }
            if (!await DelayAsync(wait, stopping))
            {
                return;
            }
            wait = wait * 2 < LongestRetry ? wait * 2 : LongestRetry;
        }
    }

    /// <summary>LISTEN runs: after a loss (or a first subscriber that stopped waiting), whatever was missed is dropped.</summary>
    private void OnListening(bool afterLoss)
    {
        bool dropAll;
        lock (_gate)
        {
            dropAll = afterLoss || _listenedOnce || _firstListenMissed;
            _listenedOnce = true;
        }
        _firstListen.TrySetResult();
        if (dropAll)
        {
            Log.Listening(_logger);
            _local.Publish(KeyChange.All);
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (e.Channel != Channel)
        {
            return;
        }
        foreach (var change in PostgresKeyChangePayload.Decode(e.Payload, ProcessId))
        {
            _local.Publish(change);
        }
    }

    /// <summary>Sends queued changes, as many per round trip as are waiting, retrying one batch until the database takes it.</summary>
    private async Task SendAsync()
    {
        var stopping = _stopSending.Token;
        var batch = new List<KeyChange>();
        try
        {
            while (await _outbox.Reader.WaitToReadAsync(stopping))
            {
                while (batch.Count < 10_000 && _outbox.Reader.TryRead(out var change))
                {
                    batch.Add(change);
                }
                await SendWithRetriesAsync(PostgresKeyChangePayload.Encode(ProcessId, batch), stopping);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            var left = batch.Count;
            while (_outbox.Reader.TryRead(out _))
            {
                left++;
            }
            if (left > 0)
            {
                Log.NotSentAtStop(_logger, left);
            }
        }
    }

    private async Task SendWithRetriesAsync(List<string> payloads, CancellationToken stopping)
    {
        var wait = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _database.OpenAsync(stopping);
                await using var notify = new NpgsqlCommand("SELECT pg_notify($1, p) FROM unnest($2) AS p", connection);
                notify.Parameters.Add(new NpgsqlParameter { Value = Channel, NpgsqlDbType = NpgsqlDbType.Text });
                notify.Parameters.Add(new NpgsqlParameter { Value = payloads.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
                await notify.ExecuteNonQueryAsync(stopping);
                if (attempt > 1)
                {
                    Log.NotifySent(_logger, attempt);
                }
                return;
            }
            catch (Exception e) when (e is DbException or TimeoutException or IOException or InvalidOperationException && !stopping.IsCancellationRequested)
            {
                if (attempt == 1 || attempt % 20 == 0)
                {
                    Log.NotifyFailed(_logger, attempt, e.Message);
                }
            }
            if (!await DelayAsync(wait, stopping))
            {
                throw new OperationCanceledException(stopping);
            }
            wait = wait * 2 < LongestRetry ? wait * 2 : LongestRetry;
        }
    }

    private async Task<bool> DelayAsync(TimeSpan wait, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(wait, _time, stopping);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1061, Level = LogLevel.Warning, Message = "Lost the LISTEN connection for key changes ({Problem}); reconnecting, and every cached key will be dropped once it is back")]
        public static partial void ListenLost(ILogger logger, string problem);

        [LoggerMessage(EventId = 1062, Level = LogLevel.Information, Message = "Listening for key changes again; every cached key was dropped in case a change was missed")]
        public static partial void Listening(ILogger logger);

        [LoggerMessage(EventId = 1063, Level = LogLevel.Warning, Message = "Could not tell the other replicas about key changes (attempt {Attempt}: {Problem}); retrying")]
        public static partial void NotifyFailed(ILogger logger, int attempt, string problem);

        [LoggerMessage(EventId = 1064, Level = LogLevel.Information, Message = "Told the other replicas about key changes after {Attempt} attempts")]
        public static partial void NotifySent(ILogger logger, int attempt);

        [LoggerMessage(EventId = 1065, Level = LogLevel.Warning, Message = "{Count} key changes were not sent to the other replicas before stopping; their caches drop every key within KeyCacheMaxAge")]
        public static partial void NotSentAtStop(ILogger logger, int count);
    }
}

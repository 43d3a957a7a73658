using System.Globalization;
using Microsoft.Extensions.Options;

namespace KeyBrake.Storage;

/// <summary>
/// SPEC §2 <c>KeyBrake:Storage:MinFreeBytes</c>: below this much free space on the filesystem the store writes to,
/// proxied calls are refused (503 <c>audit_unavailable</c>) so the room left goes to admin changes and revocations. The
/// proxy reads one cached field; a timer asks the filesystem (statvfs) once a second, off the request path.
/// </summary>
internal sealed partial class StoreFreeSpace : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private readonly long _minFreeBytes;
    private readonly IStoreEngine _store;
    private readonly TimeProvider _time;
    private readonly ILogger<StoreFreeSpace> _logger;
    private ITimer? _timer;
    private string? _problem;

    public StoreFreeSpace(IOptions<KeyBrakeOptions> options, IStoreEngine store, TimeProvider time, ILogger<StoreFreeSpace> logger)
    {
        _minFreeBytes = options.Value.Storage.MinFreeBytes;
        _store = store;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Called at start-up once the store's directory exists (<see cref="KeyBrakeStartup"/>), before the server listens:
    /// the first reading, then one a second.
    /// </summary>
    public void Start()
    {
        if (_minFreeBytes > 0 && _store.LocalDirectory is { } directory) // 0 turns the check off; a database server keeps its own floor
        {
            Refresh(directory);
            _timer = _time.CreateTimer(_ => Refresh(directory), null, Period, Period);
        }
    }

    /// <summary>Null while there is room; otherwise why proxied calls are refused. At most about a second old.</summary>
    public string? Problem => Volatile.Read(ref _problem);

    private void Refresh(string directory)
    {
        string? problem;
        try
        {
            var free = new DriveInfo(directory).AvailableFreeSpace;
            problem = free >= _minFreeBytes ? null : string.Create(CultureInfo.InvariantCulture,
                $"{free} bytes free where the store writes ({directory}), below KeyBrake:Storage:MinFreeBytes ({_minFreeBytes})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            problem = $"the free space where the store writes ({directory}) cannot be read: {e.Message}"; // fail closed
        }
        var before = Interlocked.Exchange(ref _problem, problem);
        if (problem is not null && before is null)
        {
            Log.Low(_logger, problem);
        }
        else if (problem is null && before is not null)
        {
            Log.Recovered(_logger, directory);
        }
    }

    public void Dispose() => _timer?.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 1021, Level = LogLevel.Critical, Message = "Proxied calls are refused (503 audit_unavailable) until space is freed: {Problem}. Admin changes and revocations still work")]
        public static partial void Low(ILogger logger, string problem);

        [LoggerMessage(EventId = 1022, Level = LogLevel.Warning, Message = "Free space where the store writes ({Directory}) is above KeyBrake:Storage:MinFreeBytes again; proxied calls are served")]
        public static partial void Recovered(ILogger logger, string directory);
    }
}

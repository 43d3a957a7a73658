using KeyBrake.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.Tests.Telemetry;

public sealed class AnonymousRefusalsTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly RecordingLogger _logger = new();

    [Fact]
    public void Refused_ABurst_IsOneLineASecondPerCode_WithTheCount()
    {
        var refusals = new AnonymousRefusals(_time, _logger);

        for (var i = 0; i < 500; i++)
        {
            refusals.Refused("stripe", "invalid_key");
        }
        refusals.Refused("unknown", "unknown_vendor");
        _time.Advance(TimeSpan.FromMilliseconds(999));
        refusals.Refused("stripe", "invalid_key");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        refusals.Refused("stripe", "invalid_key");

        Assert.Equal(
            ["1 invalid_key", "1 unknown_vendor", "501 invalid_key"], // the 499 after the first line, the one at 999 ms and this one,
            _logger.Lines.Select(l => $"{l["Count"]} {l["Code"]}"));
    }

    private sealed class RecordingLogger : ILogger<AnonymousRefusals>
    {
        public List<Dictionary<string, object?>> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(((IEnumerable<KeyValuePair<string, object?>>)state!).ToDictionary(p => p.Key, p => p.Value));
    }
}

using System.Globalization;
using Azure;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace KeyBrake.Secrets;

/// <summary>
/// The Polly pipeline around one Key Vault read: retries with exponential back-off and jitter on 429, 5xx, network
/// failures and time-outs (a Retry-After is honoured, and a longer one than <see cref="MaxRetryAfter"/> is not waited
/// for); inside it a circuit breaker, so a vault that keeps failing is not asked at all for a while; innermost a
/// time-out per attempt. A 404 or 403 is an answer, not a failure: neither retried nor counted by the breaker.
/// </summary>
internal static partial class KeyVaultResilience
{
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(5);

    public static ResiliencePipeline Build(SecretsOptions options, TimeProvider time, ILogger logger)
    {
        // The breaker counts every failure; the retry skips those whose Retry-After is longer than it will wait.
        var counted = new PredicateBuilder().Handle<Exception>(IsFailure);
        var transient = new PredicateBuilder().Handle<Exception>(e => IsFailure(e)
            && (e is not RequestFailedException r || (RetryAfter(r) ?? TimeSpan.Zero) <= MaxRetryAfter));
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (options.ReadRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = transient,
                MaxRetryAttempts = options.ReadRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = MaxRetryAfter,
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception is RequestFailedException e ? RetryAfter(e) : null),
                OnRetry = args =>
                {
                    Log.Retrying(logger, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, Describe(args.Outcome.Exception));
                    return ValueTask.CompletedTask;
                },
            });
        }
        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = counted,
                FailureRatio = 0.5,
                MinimumThroughput = 4,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = options.BreakDuration,
                OnOpened = args =>
                {
                    Log.CircuitOpened(logger, args.BreakDuration.TotalSeconds, Describe(args.Outcome.Exception));
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    Log.CircuitClosed(logger);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(options.ReadTimeout)
            .Build();
    }

    /// <summary>The vault did not answer, or answered 408, 429 or 5xx (status 0: no response at all).</summary>
    private static bool IsFailure(Exception e) =>
        e is HttpRequestException or TimeoutRejectedException || e is RequestFailedException { Status: 0 or 408 or 429 or >= 500 };

    /// <summary>Retry-After in seconds or as an HTTP date, from Key Vault's (or a gateway's) 429 or 503.</summary>
    internal static TimeSpan? RetryAfter(RequestFailedException e)
    {
        if (e.GetRawResponse() is not { } response || !response.Headers.TryGetValue("Retry-After", out var value))
        {
            return null;
        }
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }
        return response.Headers.Date is { } now && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? (at > now ? at - now : TimeSpan.Zero)
            : null;
    }

    /// <summary>What went wrong, for operators: a status and error code, or an exception type. Never a value.</summary>
    internal static string Describe(Exception? e) => e switch
    {
        RequestFailedException { Status: 0 } r => "no answer (" + (r.InnerException?.GetType().Name ?? "network") + ")",
        RequestFailedException r => $"{r.Status} {r.ErrorCode}",
        TimeoutRejectedException t => $"no answer within {t.Timeout.TotalMilliseconds:0} ms",
        BrokenCircuitException => "circuit open: too many recent failures, the vault is not being asked",
        null => "no exception",
        _ => e.GetType().Name,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 4301, Level = LogLevel.Warning, Message = "Key Vault read failed ({Problem}); retry {Attempt} in {DelayMs} ms")]
        public static partial void Retrying(ILogger logger, int attempt, double delayMs, string problem);

        [LoggerMessage(EventId = 4302, Level = LogLevel.Error, Message = "Key Vault circuit opened for {Seconds} s after repeated failures ({Problem})")]
        public static partial void CircuitOpened(ILogger logger, double seconds, string problem);

        [LoggerMessage(EventId = 4303, Level = LogLevel.Information, Message = "Key Vault circuit closed: reads succeed again")]
        public static partial void CircuitClosed(ILogger logger);
    }
}

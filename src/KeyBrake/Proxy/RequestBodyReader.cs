using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace KeyBrake.Proxy;

/// <summary>
/// Reads a call's body once, so pricing and forwarding see the same bytes (SPEC §4). Bytes are taken as they arrive:
/// the buffer grows with what came, never to a declared <c>Content-Length</c> up front, and every byte it holds is
/// first taken from the process-wide <see cref="InFlightBodyBudget"/> (held until the call ends, see
/// <see cref="Release"/>). A body that cannot be read (bad chunking, a broken connection) is 400
/// <c>invalid_request</c>, logged as one line without a stack trace: it is the client's fault, not KeyBrake's.
/// </summary>
internal sealed partial class RequestBodyReader(InFlightBodyBudget budget, IOptions<KeyBrakeOptions> options, ILogger<RequestBodyReader> logger)
{
    private const int FirstBufferBytes = 4096;

    private readonly long _maxBodyBytes = options.Value.Proxy.MaxBodyBytes;

    private static readonly KeyBrakeError Overloaded = new(StatusCodes.Status503ServiceUnavailable, "overloaded",
        "KeyBrake holds as many request bodies as it may right now (KeyBrake:Proxy:MaxInFlightBodyBytes); nothing was sent. Retry shortly.");

    private static readonly KeyBrakeError Unreadable = new(StatusCodes.Status400BadRequest, "invalid_request",
        "The request body could not be read (malformed chunked encoding, or the connection broke); nothing was sent.");

    /// <summary>Null when the body is read (<see cref="ProxyCall.Body"/>), else the refusal.</summary>
    public async ValueTask<KeyBrakeError?> ReadAsync(HttpContext context, ProxyCall call)
    {
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return null;
        }
        // The gate refused a declared length over the limit; a declared one is still only a bound, never an allocation.
        var limit = Math.Min(context.Request.ContentLength ?? _maxBodyBytes, _maxBodyBytes);
        var reader = context.Request.BodyReader;
        var buffer = Array.Empty<byte>();
        var length = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(context.RequestAborted);
                var data = result.Buffer;
                var needed = length + data.Length;
                KeyBrakeError? refusal = null;
                if (needed > _maxBodyBytes)
                {
                    refusal = ListenerGateMiddleware.BodyTooLargeError(_maxBodyBytes);
                }
                else if (needed > buffer.Length)
                {
                    var grown = (int)Math.Max(needed, Math.Min(limit, Math.Max(2L * buffer.Length, FirstBufferBytes)));
                    if (await budget.AcquireAsync(grown - buffer.Length, context.RequestAborted))
                    {
                        call.BodyBytesHeld += grown - buffer.Length;
                        var next = new byte[grown];
                        buffer.AsSpan(0, length).CopyTo(next);
                        buffer = next;
                    }
                    else
                    {
                        // The agent may have left while waiting: that is not an overload.
                        refusal = context.RequestAborted.IsCancellationRequested ? Unreadable : Overloaded;
                    }
                }
                if (refusal is null)
                {
                    data.CopyTo(buffer.AsSpan(length));
                    length = (int)needed;
                }
                reader.AdvanceTo(data.End);
                if (refusal is not null)
                {
                    if (refusal == Overloaded)
                    {
                        Log.Overloaded(logger, call.RequestId, call.Key?.Id, budget.Capacity);
                    }
                    else if (refusal == Unreadable)
                    {
                        Log.Unreadable(logger, call.RequestId, call.Key?.Id, "the connection closed while the call waited for body budget");
                    }
                    return refusal;
                }
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is BadHttpRequestException or IOException or OperationCanceledException)
        {
            Log.Unreadable(logger, call.RequestId, call.Key?.Id, e.Message);
            return Unreadable;
        }
        call.Body = buffer.AsMemory(0, length);
        context.Request.Headers.Remove("Transfer-Encoding");
        context.Request.ContentLength = length;
        context.Request.Body = new MemoryStream(buffer, 0, length, writable: false);
        return null;
    }

    /// <summary>Gives the call's body bytes back to the budget; once, when the call ends (forwarded or refused).</summary>
    public void Release(ProxyCall call)
    {
        budget.Release(call.BodyBytesHeld);
        call.BodyBytesHeld = 0;
    }

    private static partial class Log
    {
        /// <summary>The client's fault, so one line with the problem, never the exception's stack trace.</summary>
        [LoggerMessage(EventId = 4211, Level = LogLevel.Information, Message = "Request {RequestId} (key {KeyId}): the request body could not be read ({Problem}); 400 invalid_request")]
        public static partial void Unreadable(ILogger logger, string requestId, string? keyId, string problem);

        [LoggerMessage(EventId = 4212, Level = LogLevel.Warning, Message = "Request {RequestId} (key {KeyId}): {Capacity} bytes of request bodies are in flight (KeyBrake:Proxy:MaxInFlightBodyBytes); 503 overloaded")]
        public static partial void Overloaded(ILogger logger, string requestId, string? keyId, long capacity);
    }
}

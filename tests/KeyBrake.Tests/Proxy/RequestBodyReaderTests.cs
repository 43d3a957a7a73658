using System.IO.Pipelines;
using KeyBrake.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.Tests.Proxy;

public sealed class RequestBodyReaderTests
{
    private const long MaxBody = 1024 * 1024;
    private readonly FakeTimeProvider _time = new();
    private readonly InFlightBodyBudget _budget;
    private readonly RequestBodyReader _reader;

    public RequestBodyReaderTests()
    {
        var options = Options.Create(new KeyBrakeOptions { Proxy = new ProxyOptions { MaxBodyBytes = MaxBody, MaxInFlightBodyBytes = 2 * MaxBody } });
        _budget = new InFlightBodyBudget(options, _time);
        _reader = new RequestBodyReader(_budget, options, NullLogger<RequestBodyReader>.Instance);
    }

    [Fact]
    public async Task Read_ADeclaredLength_AllocatesNothingBeforeBytesArrive_ThenOnlyWhatCame()
    {
        var pipe = new Pipe();
        var (context, call) = Context(pipe.Reader.AsStream(), contentLength: MaxBody);

        var reading = _reader.ReadAsync(context, call).AsTask();
        Assert.False(reading.IsCompleted);
        Assert.Equal((0L, 2 * MaxBody), (call.BodyBytesHeld, _budget.Available));
        await pipe.Writer.WriteAsync("amount=500"u8.ToArray());
        await pipe.Writer.CompleteAsync();

        Assert.Null(await reading);
        Assert.Equal("amount=500"u8.ToArray(), call.Body.ToArray());
        Assert.InRange(call.BodyBytesHeld, 10, 4096);
        Assert.Equal(2 * MaxBody - call.BodyBytesHeld, _budget.Available);
        Assert.Equal(10, context.Request.ContentLength);
        _reader.Release(call);
        Assert.Equal(2 * MaxBody, _budget.Available);
    }

    [Fact]
    public async Task Read_ChunkedBody_GrowsAsItArrives_AndIsForwardedAsTheSameBytes()
    {
        var body = Enumerable.Range(0, 300 * 1024).Select(i => (byte)(i * 31)).ToArray();
        var (context, call) = Context(new MemoryStream(body), contentLength: null);
        context.Request.Headers.TransferEncoding = "chunked";

        Assert.Null(await _reader.ReadAsync(context, call));

        Assert.Equal(body, call.Body.ToArray());
        Assert.False(context.Request.Headers.ContainsKey("Transfer-Encoding"));
        Assert.Equal(body.Length, context.Request.ContentLength);
        using var forwarded = new MemoryStream();
        await context.Request.Body.CopyToAsync(forwarded);
        Assert.Equal(body, forwarded.ToArray());
    }

    [Fact]
    public async Task Read_ChunkedBodyOverTheLimit_Is413()
    {
        var (context, call) = Context(new MemoryStream(new byte[MaxBody + 1]), contentLength: null);

        var error = await _reader.ReadAsync(context, call);

        Assert.Equal((413, "body_too_large"), (error!.Status, error.Code));
    }

    [Fact]
    public async Task Read_BudgetTaken_WaitsOneSecond_ThenIs503Overloaded()
    {
        Assert.True(await _budget.AcquireAsync(2 * MaxBody, CancellationToken.None));
        var (context, call) = Context(new MemoryStream(new byte[100]), contentLength: 100);

        var reading = _reader.ReadAsync(context, call).AsTask();
        Assert.False(reading.IsCompleted);
        _time.Advance(InFlightBodyBudget.MaxWait);
        var error = await reading;

        Assert.Equal((503, "overloaded"), (error!.Status, error.Code));
        Assert.True(KeyBrakeError.IsRetryable(error.Code));
        Assert.Equal(0, call.BodyBytesHeld);
    }

    [Fact]
    public async Task Read_BrokenBody_Is400InvalidRequest()
    {
        var (context, call) = Context(new BrokenStream(), contentLength: null);

        var error = await _reader.ReadAsync(context, call);

        Assert.Equal((400, "invalid_request"), (error!.Status, error.Code));
    }

    private static (HttpContext, ProxyCall) Context(Stream body, long? contentLength)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Body = body;
        context.Request.ContentLength = contentLength;
        var call = new ProxyCall("stripe", "/v1/charges", "req_1");
        return (context, call);
    }

    private sealed class BrokenStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new BadHttpRequestException("Bad chunk size data.");

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            throw new BadHttpRequestException("Bad chunk size data.");
    }
}

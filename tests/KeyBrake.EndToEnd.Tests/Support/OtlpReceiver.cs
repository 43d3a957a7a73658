using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>
/// An OTLP/HTTP receiver on loopback (<c>POST /v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>, protobuf) that keeps
/// every export request and decodes them with <see cref="Protobuf"/> against the OTLP schema, field numbers from
/// opentelemetry-proto. No OpenTelemetry code on this side.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(string Signal, byte[] Body)> _received = new();

    private OtlpReceiver(WebApplication app, int port)
    {
        _app = app;
        Endpoint = $"http://127.0.0.1:{port}";
    }

    public string Endpoint { get; }

    public IReadOnlyList<(string Signal, byte[] Body)> Received => [.. _received];

    public static async Task<OtlpReceiver> StartAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app, port);
        app.MapPost("/v1/{signal}", async (HttpContext context, string signal) =>
        {
            if (context.Request.ContentType != "application/x-protobuf")
            {
                return Results.StatusCode(415);
            }
            Stream body = context.Request.Body;
            if (context.Request.Headers.ContentEncoding == "gzip")
            {
                body = new GZipStream(body, CompressionMode.Decompress);
            }
            using var buffer = new MemoryStream();
            await body.CopyToAsync(buffer);
            receiver._received.Enqueue((signal, buffer.ToArray()));
            return Results.Bytes([], "application/x-protobuf"); // an empty Export*ServiceResponse: all accepted
        });
        await app.StartAsync();
        return receiver;
    }

    public sealed record Span(string Name, string Scope, Dictionary<string, object?> Attributes, int StatusCode);

    public sealed record Point(string Metric, Dictionary<string, object?> Attributes, double Value);

    public sealed record LogRecord(string Body, string Severity, Dictionary<string, object?> Attributes);

    /// <summary>Resource attributes of every export request (service.name, …).</summary>
    public IEnumerable<Dictionary<string, object?>> Resources() =>
        Received.SelectMany(r => Protobuf.Parse(r.Body).Messages(1)).Select(resource => Attributes(resource.One(1), 1));

    public IEnumerable<Span> Spans() =>
        from request in Received where request.Signal == "traces"
        from resourceSpans in Protobuf.Parse(request.Body).Messages(1)
        from scopeSpans in resourceSpans.Messages(2)
        from span in scopeSpans.Messages(2)
        select new Span(span.String(5), scopeSpans.One(1).String(1), Attributes(span, 9), (int)span.One(15).Varint(3));

    /// <summary>Every data point of sums, gauges (value) and histograms (count), in export order: the last one of a series is its total.</summary>
    public IEnumerable<Point> Points() =>
        from request in Received where request.Signal == "metrics"
        from resourceMetrics in Protobuf.Parse(request.Body).Messages(1)
        from scopeMetrics in resourceMetrics.Messages(2)
        from metric in scopeMetrics.Messages(2)
        from point in PointsOf(metric)
        select point;

    public IEnumerable<LogRecord> Logs() =>
        from request in Received where request.Signal == "logs"
        from resourceLogs in Protobuf.Parse(request.Body).Messages(1)
        from scopeLogs in resourceLogs.Messages(2)
        from record in scopeLogs.Messages(2)
        select new LogRecord(record.One(5).String(1), record.String(3), Attributes(record, 6));

    /// <summary>The latest value of one series: the metric with exactly these attributes among its own.</summary>
    public double? Latest(string metric, params (string Key, string Value)[] attributes) =>
        Points().LastOrDefault(p => p.Metric == metric && attributes.All(a => Equals(p.Attributes.GetValueOrDefault(a.Key), a.Value)))?.Value;

    private static IEnumerable<Point> PointsOf(Protobuf.Message metric)
    {
        var name = metric.String(1);
        foreach (var (field, isHistogram) in new[] { (5, false), (7, false), (9, true) }) // gauge, sum, histogram
        {
            foreach (var data in metric.Messages(field))
            {
                foreach (var point in data.Messages(1))
                {
                    var value = isHistogram ? point.Fixed64(4)
                        : point.Has(4) ? BitConverter.Int64BitsToDouble((long)point.Fixed64(4)) : (long)point.Fixed64(6);
                    yield return new Point(name, Attributes(point, isHistogram ? 9 : 7), value);
                }
            }
        }
    }

    private static Dictionary<string, object?> Attributes(Protobuf.Message message, int field) =>
        message.Messages(field).ToDictionary(kv => kv.String(1), kv => AnyValue(kv.One(2)));

    private static object? AnyValue(Protobuf.Message value) =>
        value.Has(1) ? value.String(1) : value.Has(2) ? value.Varint(2) != 0 : value.Has(3) ? (long)value.Varint(3)
        : value.Has(4) ? BitConverter.Int64BitsToDouble((long)value.Fixed64(4)) : null;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The protobuf wire format, read without a schema: fields by number; the caller knows which are messages.</summary>
internal static class Protobuf
{
    public static Message Parse(ReadOnlySpan<byte> bytes) => new(bytes.ToArray());

    public sealed class Message
    {
        private readonly List<(int Field, int WireType, ulong Number, byte[]? Bytes)> _fields = [];

        public Message(byte[] bytes)
        {
            var position = 0;
            while (position < bytes.Length)
            {
                var tag = ReadVarint(bytes, ref position);
                var (field, wireType) = ((int)(tag >> 3), (int)(tag & 7));
                switch (wireType)
                {
                    case 0:
                        _fields.Add((field, 0, ReadVarint(bytes, ref position), null));
                        break;
                    case 1:
                        _fields.Add((field, 1, BitConverter.ToUInt64(bytes, position), null));
                        position += 8;
                        break;
                    case 2:
                        var length = (int)ReadVarint(bytes, ref position);
                        _fields.Add((field, 2, 0, bytes[position..(position + length)]));
                        position += length;
                        break;
                    case 5:
                        _fields.Add((field, 5, BitConverter.ToUInt32(bytes, position), null));
                        position += 4;
                        break;
                    default:
                        throw new FormatException($"wire type {wireType} at {position}");
                }
            }
        }

        public bool Has(int field) => _fields.Any(f => f.Field == field);

        public IEnumerable<Message> Messages(int field) => _fields.Where(f => f.Field == field && f.WireType == 2).Select(f => new Message(f.Bytes!));

        public Message One(int field) => Messages(field).FirstOrDefault() ?? new Message([]);

        public string String(int field) => _fields.Where(f => f.Field == field && f.WireType == 2).Select(f => System.Text.Encoding.UTF8.GetString(f.Bytes!)).FirstOrDefault() ?? "";

        public ulong Varint(int field) => _fields.Where(f => f.Field == field && f.WireType == 0).Select(f => f.Number).FirstOrDefault();

        public ulong Fixed64(int field) => _fields.Where(f => f.Field == field && f.WireType == 1).Select(f => f.Number).FirstOrDefault();

        private static ulong ReadVarint(byte[] bytes, ref int position)
        {
            ulong result = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = bytes[position++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return result;
                }
            }
        }
    }
}

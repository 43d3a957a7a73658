using System.Net;
using System.Text.Json.Nodes;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Audit;

/// <summary>The live tail: Server-Sent Events per label or key, replay from Last-Event-ID, and slow readers.</summary>
public sealed class AuditStreamTests : HostedTest
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Stream_TwoLabels_EachSeesOnlyItsOwnEntries_LiveAndInOrder()
    {
        var (_, tokenA) = await Host.CreateKeyAsync("sse-run-a", "stripe", ["GET /v1/customers/*"]);
        var (_, tokenB) = await Host.CreateKeyAsync("sse-run-b", "stripe", ["GET /v1/customers/*"]);
        await using var a = await SseReader.OpenAsync(Host, "/v1/audit/stream?label=sse-run-a");
        await using var b = await SseReader.OpenAsync(Host, "/v1/audit/stream?label=sse-run-b");

        for (var i = 0; i < 3; i++)
        {
            using var x = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, $"/stripe/v1/customers/a{i}", tokenA));
            using var y = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/charges", tokenB));
        }

        var seenA = await a.ReadAsync(6, Wait); // 3 × request + response
        var seenB = await b.ReadAsync(3, Wait); // 3 × denied
        Assert.All(seenA, e => Assert.Equal("sse-run-a", (string)e.Data["label"]!));
        Assert.All(seenB, e => Assert.Equal("sse-run-b", (string)e.Data["label"]!));
        Assert.Equal(["proxy.request", "proxy.response", "proxy.request", "proxy.response", "proxy.request", "proxy.response"], seenA.Select(e => (string)e.Data["type"]!));
        Assert.All(seenB, e => Assert.Equal("deny:endpoint_not_allowed", (string)e.Data["decision"]!));
        Assert.Equal(seenA.Select(e => e.Id).Order(), seenA.Select(e => e.Id)); // seq order
        Assert.All(seenA.Concat(seenB), e => Assert.Equal(e.Id, (long)e.Data["seq"]!));
    }

    [Fact]
    public async Task Stream_LastEventId_ReplaysWhatCameAfter_ThenFollows()
    {
        var (keyId, token) = await Host.CreateKeyAsync("sse-replay", "stripe", ["GET /v1/customers/*"]);
        for (var i = 0; i < 2; i++)
        {
            using var x = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, $"/stripe/v1/customers/c{i}", token));
        }
        await Host.AuditFlushedAsync();
        var all = JsonNode.Parse(await Host.Admin.GetStringAsync($"/v1/audit?key_id={keyId}"))!["entries"]!.AsArray();
        var afterFirst = (long)all[1]!["seq"]!; // key.created, then request 1

        await using var replay = await SseReader.OpenAsync(Host, $"/v1/audit/stream?key_id={keyId}", lastEventId: afterFirst);
        var replayed = await replay.ReadAsync(all.Count - 2, Wait);
        using var live = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Get, "/stripe/v1/customers/c9", token));
        var followed = await replay.ReadAsync(2, Wait);

        Assert.Equal(all.Skip(2).Select(e => (long)e!["seq"]!), replayed.Select(e => e.Id));
        Assert.Equal("/v1/customers/c9", (string)followed[0].Data["path"]!);
    }

    [Fact]
    public async Task Stream_AClientThatNeverReads_HoldsBackNeitherTheWriterNorOtherClients()
    {
        var (_, token) = await Host.CreateKeyAsync("sse-slow", "stripe", ["GET /v1/customers/*"]);
        using var stalled = new HttpClient { BaseAddress = Host.Admin.BaseAddress };
        stalled.DefaultRequestHeaders.Authorization = Host.Admin.DefaultRequestHeaders.Authorization;
        using var never = await stalled.GetAsync("/v1/audit/stream?label=sse-slow&after_seq=0", HttpCompletionOption.ResponseHeadersRead); // never read
        await using var reader = await SseReader.OpenAsync(Host, "/v1/audit/stream?label=sse-slow&after_seq=0");

        // Enough entries to fill the stalled client's socket buffers many times over.
        var reason = new string('x', 500);
        await Parallel.ForEachAsync(Enumerable.Range(0, 400), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            using var request = KeyBrakeHost.ProxyRequest(HttpMethod.Get, $"/stripe/v1/customers/s{i}", token);
            request.Headers.Add("X-KeyBrake-Reason", reason);
            using var response = await Host.Proxy.SendAsync(request, ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        });

        var seen = await reader.ReadAsync(801, Wait); // key.created + 400 × 2
        Assert.Equal(801, seen.Count);
    }
}

/// <summary>A minimal Server-Sent Events reader over HttpClient.</summary>
internal sealed class SseReader : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseReader(HttpClient client, HttpResponseMessage response, StreamReader reader) => (_client, _response, _reader) = (client, response, reader);

    public static Task<SseReader> OpenAsync(KeyBrakeHost host, string path, long? lastEventId = null) => OpenAsync(host.Admin, path, lastEventId);

    /// <summary>On the admin API behind <paramref name="admin"/> (its address and token), e.g. a replica's.</summary>
    public static async Task<SseReader> OpenAsync(HttpClient admin, string path, long? lastEventId = null)
    {
        var client = new HttpClient { BaseAddress = admin.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Authorization = admin.DefaultRequestHeaders.Authorization;
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        return new SseReader(client, response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    public async Task<List<(long Id, JsonObject Data)>> ReadAsync(int count, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var events = new List<(long, JsonObject)>();
        long id = 0;
        string? type = null;
        while (events.Count < count)
        {
            var line = await _reader.ReadLineAsync(cancel.Token) ?? throw new EndOfStreamException();
            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                Assert.Equal("audit", type);
                events.Add((id, JsonNode.Parse(line[6..])!.AsObject()));
            }
        }
        return events;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}

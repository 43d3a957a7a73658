using System.Text;

namespace KeyBrake.Cli.Tests;

public sealed class ServerSentEventsTests
{
    [Fact]
    public async Task ReadAsync_FieldsCommentsMultiLineDataAndCrLf_EventsAsSent()
    {
        const string stream = ": keep-alive\r\nid: 7\r\nevent: audit\r\ndata: {\"seq\":7}\r\n\r\nid: 8\nevent: audit\ndata: line one\ndata: line two\n\ndata: no type\n\n: trailing comment\n";
        var events = new List<ServerSentEvents.Event>();

        await foreach (var e in ServerSentEvents.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(stream)), CancellationToken.None))
        {
            events.Add(e);
        }

        Assert.Equal(
            [new("7", "audit", "{\"seq\":7}"), new("8", "audit", "line one\nline two"), new(null, "message", "no type")],
            events);
    }

    [Fact]
    public async Task ReadAsync_StreamEndsMidEvent_IncompleteEventNotDispatched()
    {
        var events = new List<ServerSentEvents.Event>();

        await foreach (var e in ServerSentEvents.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes("id: 9\nevent: audit\ndata: {\"seq\"")), CancellationToken.None))
        {
            events.Add(e);
        }

        Assert.Empty(events);
    }
}

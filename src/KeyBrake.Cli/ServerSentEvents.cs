using System.Runtime.CompilerServices;
using System.Text;

namespace KeyBrake.Cli;

/// <summary>Reads a <c>text/event-stream</c>: <c>id:</c>, <c>event:</c> and <c>data:</c> fields, dispatched at a blank line.</summary>
internal static class ServerSentEvents
{
    public readonly record struct Event(string? Id, string Type, string Data);

    public static async IAsyncEnumerable<Event> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? id = null, type = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    yield return new Event(id, type ?? "message", data.ToString());
                }
                id = type = null;
                data.Clear();
                continue;
            }
            if (line[0] == ':')
            {
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id":
                    id = value;
                    break;
                case "event":
                    type = value;
                    break;
                case "data":
                    if (data.Length > 0)
                    {
                        data.Append('\n');
                    }
                    data.Append(value);
                    break;
            }
        }
    }
}

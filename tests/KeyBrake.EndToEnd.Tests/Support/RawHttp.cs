using System.Net.Sockets;
using System.Text;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>
/// Sends a request target byte for byte. HttpClient normalises dot segments and some escapes before sending, which
/// would hide exactly the bypass attempts these tests make.
/// </summary>
internal static class RawHttp
{
    public static async Task<(int Status, string Body)> SendAsync(int port, string method, string target, IEnumerable<string> headers, string? body = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        await using var stream = client.GetStream();
        var request = new StringBuilder();
        request.Append($"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
        foreach (var header in headers)
        {
            request.Append(header).Append("\r\n");
        }
        if (body is not null)
        {
            request.Append($"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n");
        }
        request.Append("\r\n").Append(body);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        var statusLine = response[..response.IndexOf("\r\n", StringComparison.Ordinal)];
        var status = int.Parse(statusLine.Split(' ')[1]);
        var bodyStart = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = bodyStart < 0 ? response : response[..bodyStart];
        var content = bodyStart < 0 ? "" : response[(bodyStart + 4)..];
        return (status, head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase) ? Dechunk(content) : content);
    }

    private static string Dechunk(string content)
    {
        var result = new StringBuilder();
        var position = 0;
        while (true)
        {
            var lineEnd = content.IndexOf("\r\n", position, StringComparison.Ordinal);
            var size = Convert.ToInt32(content[position..lineEnd], 16);
            if (size == 0)
            {
                return result.ToString();
            }
            result.Append(content, lineEnd + 2, size);
            position = lineEnd + 2 + size + 2;
        }
    }
}

using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Proxy;

/// <summary>
/// SPEC §4: a request body that cannot be read (bad chunking, a broken connection) is 400 invalid_request, logged
/// without a stack trace (the review saw a full one at error level), and nothing reaches the vendor.
/// </summary>
public sealed class RequestBodyTests : HostedTest
{
    public static TheoryData<string, string, bool> BrokenBodies => new()
    {
        // A chunk size that is not hex.
        { "Transfer-Encoding: chunked", "zz\r\namount=1\r\n0\r\n\r\n", false },
        // A chunk that claims more than it carries, then the connection ends (no answer can reach the agent then).
        { "Transfer-Encoding: chunked", "100\r\namount=99999999&currency=usd", true },
        // A declared length the agent never delivers.
        { "Content-Length: 500", "amount=99999999&currency=usd", true },
    };

    [Theory]
    [MemberData(nameof(BrokenBodies))]
    public async Task UnreadableBody_Is400InvalidRequest_WithoutAStackTrace_AndNeverReachesVendor(string framing, string body, bool halfClose)
    {
        var (id, token) = await Host.CreateKeyAsync("broken-body", "stripe", ["POST /v1/charges"], cap: 0);
        // A first call puts the key in the lookup cache: with a connection that breaks at once, the request then gets
        // to its body before anything else could notice the agent left.
        Assert.Equal(403, (await RawHttp.SendAsync(Host.ProxyPort, "GET", "/stripe/v1/charges", [$"Authorization: Bearer {token}"])).Status);

        var (status, text) = await SendAsync(Host.ProxyPort,
            $"POST /stripe/v1/charges HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            + $"Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n\r\n{body}", halfClose);

        if (!halfClose)
        {
            Assert.Equal(400, status);
            using var json = JsonDocument.Parse(text);
            Assert.Equal("invalid_request", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        }
        Assert.Empty(Vendor.Received);
        Assert.Equal("deny:invalid_request", (await DeniedAsync(id)).GetProperty("decision").GetString());
        Assert.Contains(Host.Logs.Lines, l => l.Contains("[4211]", StringComparison.Ordinal));
        // No exception attached to any line, at any level: the client's mistake is one line, not a stack trace.
        Assert.DoesNotContain(Host.Logs.Lines, l => l.Contains("   at ", StringComparison.Ordinal) || l.StartsWith("Error", StringComparison.Ordinal));
    }

    /// <summary>The key's proxy.denied entry; a connection the agent broke may close before KeyBrake has queued it.</summary>
    private async Task<JsonElement> DeniedAsync(string keyId)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            await Host.AuditFlushedAsync();
            var entries = (await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={keyId}&type=proxy.denied")).GetProperty("entries")
                .EnumerateArray().Where(e => e.GetProperty("decision").GetString() != "deny:endpoint_not_allowed").ToList();
            if (entries.Count > 0)
            {
                return entries.Single();
            }
            await Task.Delay(50);
        }
        Assert.Fail("no proxy.denied entry:\n" + string.Join("\n", Host.Logs.Lines.Where(l => l.Contains("KeyBrake.", StringComparison.Ordinal))));
        return default;
    }

    /// <summary>Sends raw bytes; with <paramref name="halfClose"/> the sending side is then shut, as a client that went away mid-body.</summary>
    private static async Task<(int? Status, string Body)> SendAsync(int port, string request, bool halfClose)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        if (halfClose)
        {
            client.Client.Shutdown(SocketShutdown.Send);
        }
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var head = new StringBuilder();
        string? line;
        var length = 0;
        while (!string.IsNullOrEmpty(line = await ReadLineOrNullAsync(reader)))
        {
            head.AppendLine(line);
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        if (head.Length == 0)
        {
            return (null, ""); // the server closed without an answer
        }
        var body = new char[length];
        await reader.ReadBlockAsync(body);
        return (int.Parse(head.ToString().Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), new string(body));
    }

    private static async Task<string?> ReadLineOrNullAsync(StreamReader reader)
    {
        try
        {
            return await reader.ReadLineAsync();
        }
        catch (IOException)
        {
            return null; // reset by the server
        }
    }
}

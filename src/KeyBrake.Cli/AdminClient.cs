using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace KeyBrake.Cli;

/// <summary>
/// The admin API over HTTP with the principal token. Every failure becomes a <see cref="CliException"/> with one line
/// that says what happened: unreachable, timed out, or the API's own error code and message.
/// </summary>
internal sealed class AdminClient : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http;

    public AdminClient(Uri baseUrl, string token)
    {
        BaseUrl = baseUrl;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) })
        {
            BaseAddress = baseUrl,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("keybrake-cli/1");
    }

    public Uri BaseUrl { get; }

    public Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, cancellationToken);

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }
        using var response = await SendCoreAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            return JsonSerializer.Deserialize<JsonElement>(text);
        }
        catch (JsonException)
        {
            throw new CliException($"the admin API at {BaseUrl} answered {(int)response.StatusCode} with a body that is not JSON");
        }
    }

    public async Task<string> GetTextAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendCoreAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    /// <summary>A streamed response (export, SSE) whose headers said success; the caller reads and disposes it.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, string? lastEventId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }
        return await SendCoreAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken, streaming: true);
    }

    private async Task<HttpResponseMessage> SendCoreAsync(
        HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken, bool streaming = false)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (!streaming)
        {
            timeout.CancelAfter(RequestTimeout);
        }
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, streaming ? cancellationToken : timeout.Token);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach the admin API at {BaseUrl}: {e.Message}") { Transient = true };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"the admin API at {BaseUrl} did not answer within {RequestTimeout.TotalSeconds:0} s") { Transient = true };
        }
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            var (text, code) = await DescribeErrorAsync(response, cancellationToken);
            throw new CliException(text) { Transient = (int)response.StatusCode >= 500, Code = code };
        }
    }

    private async Task<(string Text, string? Code)> DescribeErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string? code = null, message = null;
        try
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            if (document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                code = error.TryGetProperty("code", out var c) ? c.GetString() : null;
                message = error.TryGetProperty("message", out var m) ? m.GetString() : null;
            }
        }
        catch (JsonException)
        {
        }
        var hint = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => " (check KEYBRAKE_ADMIN_TOKEN)",
            HttpStatusCode.NotFound when code is null => $" (is {BaseUrl} KeyBrake's admin listener?)",
            _ => "",
        };
        return (code is null
            ? $"the admin API answered {status} {response.ReasonPhrase}{hint}"
            : $"{status} {code}: {message}{hint}", code);
    }

    public void Dispose() => _http.Dispose();
}

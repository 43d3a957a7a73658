namespace KeyBrake;

/// <summary>
/// <c>KeyBrake healthcheck</c>: asks this host's own admin listener for <c>/healthz</c> over loopback and exits 0 when it
/// answers 200, else 1. For a container HEALTHCHECK without curl in the image. Reads the configuration exactly as the host does.
/// </summary>
internal static class HealthCheckCommand
{
    public const string Name = "healthcheck";

    public static async Task<int> RunAsync(string[] args)
    {
        // The host's own configuration sources (appsettings, environment, command line) and defaults; nothing is started.
        var configuration = WebApplication.CreateBuilder(args[1..]).Configuration;
        KeyBrakeHostExtensions.AddDefaults(configuration);
        var url = LoopbackUrl(configuration["Kestrel:Endpoints:Admin:Url"]!);
        using var handler = new HttpClientHandler
        {
            // Our own listener over loopback: its certificate names the public host, not 127.0.0.1.
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync(new Uri(url, "/healthz"));
            Console.WriteLine($"{url}healthz: {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Console.WriteLine($"{url}healthz: {e.GetType().Name}");
            return 1;
        }
    }

    /// <summary>The listener URL with a wildcard host (0.0.0.0, [::], +, *) replaced by 127.0.0.1.</summary>
    internal static Uri LoopbackUrl(string listenerUrl)
    {
        var address = Microsoft.AspNetCore.Http.BindingAddress.Parse(listenerUrl);
        var host = address.Host is "0.0.0.0" or "[::]" or "+" or "*" ? "127.0.0.1" : address.Host;
        return new Uri($"{address.Scheme}://{host}:{address.Port}/");
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace KeyBrake.EndToEnd.Tests.Support;

internal static class Principals
{
    /// <summary>Creates a principal through the admin API and returns its token.</summary>
    public static async Task<string> CreateAsync(KeyBrakeHost host, string name, params string[] roles)
    {
        using var response = await host.Admin.PostAsJsonAsync("/v1/principals", new { name, roles });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("token").GetString()!;
    }
}

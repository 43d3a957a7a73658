using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Replicas;

/// <summary>
/// SPEC §9: dashboard sign-in works on every replica (shared key ring). A browser behind a load balancer without
/// session affinity signs in on one replica and lands on another for its next page and its next form.
/// </summary>
[Collection(ReplicaTestGroup.Name)]
public sealed partial class ReplicaDashboardTests
{
    [Fact]
    public async Task SignInOnA_TheSessionAndItsFormsWorkOnB()
    {
        await using var vendor = await FakeVendor.StartAsync();
        await using var replicas = await ReplicaSet.StartAsync(vendor, 2, ReplicaSpendTests.Quiet);
        var (id, _) = await replicas[1].CreateKeyAsync("replica-dashboard", "stripe", ["GET /v1/customers/*"]);
        var cookies = new CookieContainer(); // cookies are per host, not per port: both replicas get them, as behind one balancer
        using var onA = Browser(replicas[0], cookies, out var handlerA);
        using var onB = Browser(replicas[1], cookies, out var handlerB);

        using (var signIn = await PostFormAsync(onA, onA, "/signin", "/signin", ("token", KeyBrakeHost.AdminToken), ("returnUrl", "")))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }
        using var pageOnB = await onB.GetAsync("/");
        using var revokeOnB = await PostFormAsync(onA, onB, "/?handler=Revoke", "/", ("id", id), ("reason", "signed in on another replica"));

        Assert.Equal(HttpStatusCode.OK, pageOnB.StatusCode); // not a redirect to /signin: B reads A's session cookie
        Assert.Contains("replica-dashboard", await pageOnB.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(revokeOnB.StatusCode == HttpStatusCode.Redirect, $"{(int)revokeOnB.StatusCode}: {await revokeOnB.Content.ReadAsStringAsync()}");
        var key = await replicas[0].Admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/keys/{id}");
        Assert.Equal("revoked", key.GetProperty("status").GetString());
        handlerA.Dispose();
        handlerB.Dispose();
    }

    private static HttpClient Browser(KeyBrakeProcess replica, CookieContainer cookies, out HttpClientHandler handler)
    {
        handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies };
        return new HttpClient(handler, disposeHandler: false) { BaseAddress = new Uri(replica.AdminUrl) };
    }

    /// <summary>The form's antiforgery token from a page served by <paramref name="formFrom"/>, posted to <paramref name="postTo"/>.</summary>
    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient formFrom, HttpClient postTo, string path, string formPage, params (string Name, string Value)[] fields)
    {
        var antiforgery = AntiforgeryField().Match(await formFrom.GetStringAsync(formPage)).Groups[1].Value;
        var form = fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).Append(new("__RequestVerificationToken", antiforgery));
        return await postTo.PostAsync(path, new FormUrlEncodedContent(form));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}

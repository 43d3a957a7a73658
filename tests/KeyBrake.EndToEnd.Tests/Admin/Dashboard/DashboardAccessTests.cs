using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Admin.Dashboard;

/// <summary>
/// The dashboard's access rules over plain HTTP: admin listener only, sign-in first, roles on every action,
/// antiforgery on every form, the session cookie never enough to change anything through the API.
/// </summary>
public sealed partial class DashboardAccessTests : HostedTest
{
    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    private sealed class Browser : IDisposable
    {
        private readonly HttpClientHandler _handler = new() { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };

        public Browser(string baseUrl) => Http = new HttpClient(_handler) { BaseAddress = new Uri(baseUrl) };

        public HttpClient Http { get; }

        public async Task<string> FormTokenAsync(string page)
        {
            var html = await Http.GetStringAsync(page);
            return AntiforgeryField().Match(html).Groups[1].Value;
        }

        public async Task<HttpResponseMessage> PostFormAsync(string path, string formPage, params (string, string)[] fields)
        {
            var form = fields.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2)).ToList();
            form.Add(new("__RequestVerificationToken", await FormTokenAsync(formPage)));
            return await Http.PostAsync(path, new FormUrlEncodedContent(form));
        }

        public async Task<HttpResponseMessage> SignInAsync(string token, string? returnUrl = null) =>
            await PostFormAsync("/signin", "/signin", ("token", token), ("returnUrl", returnUrl ?? ""));

        public void Dispose()
        {
            Http.Dispose();
            _handler.Dispose();
        }
    }

    [Fact]
    public async Task Pages_OnlyOnTheAdminListener_AndOnlyAfterSignIn()
    {
        using var browser = new Browser(Host.AdminUrl);

        using var home = await browser.Http.GetAsync("/");
        using var onProxy = await Host.Proxy.GetAsync("/signin");
        using var onVendorPort = await new HttpClient().GetAsync($"http://127.0.0.1:{Host.StripePort}/signin");
        using var signInPage = await browser.Http.GetAsync("/signin");

        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
        Assert.Equal("/signin?returnUrl=%2F", home.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.NotFound, onProxy.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, onVendorPort.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signInPage.StatusCode);
        Assert.Contains("default-src 'self'", signInPage.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("DENY", signInPage.Headers.GetValues("X-Frame-Options").Single());
    }

    [Fact]
    public async Task SignIn_WrongToken401_RightTokenSetsHttpOnlyStrictCookie_NeverAnOpenRedirect()
    {
        using var browser = new Browser(Host.AdminUrl);

        using var wrong = await browser.SignInAsync("kba_wrong_token_0000000000000000");
        using var right = await browser.SignInAsync(KeyBrakeHost.AdminToken, "//evil.example/steal");

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal("/", right.Headers.Location!.OriginalString);
        var cookie = Assert.Single(right.Headers.GetValues("Set-Cookie"), c => c.StartsWith("keybrake_session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(KeyBrakeHost.AdminToken, cookie);
        using var home = await browser.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
    }

    [Fact]
    public async Task SessionCookie_ReadsTheApi_ButNeverChangesAnything()
    {
        var (id, _) = await Host.CreateKeyAsync("cookie-run", "stripe", ["GET /v1/customers/*"]);
        using var browser = new Browser(Host.AdminUrl);
        (await browser.SignInAsync(KeyBrakeHost.AdminToken)).Dispose();

        using var read = await browser.Http.GetAsync($"/v1/keys/{id}");
        using var revoke = await browser.Http.DeleteAsync($"/v1/keys/{id}?reason=csrf");
        using var bulk = await browser.Http.PostAsync("/v1/keys/revoke", new StringContent("{\"label_prefix\":\"cookie\"}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, bulk.StatusCode);
        Assert.Equal("active", await Host.KeyStatusAsync(id));
    }

    [Fact]
    public async Task Actions_ObeyRolesAndAntiforgery_AndNeedAReason()
    {
        var (id, _) = await Host.CreateKeyAsync("roles-run", "stripe", ["GET /v1/customers/*"]);
        using var auditor = new Browser(Host.AdminUrl);
        (await auditor.SignInAsync(await Principals.CreateAsync(Host, "sec-team", "auditor"))).Dispose();
        using var operatorOnly = new Browser(Host.AdminUrl);
        (await operatorOnly.SignInAsync(await Principals.CreateAsync(Host, "oncall", "operator"))).Dispose();

        using var auditorRevoke = await auditor.PostFormAsync("/?handler=Revoke", "/integrity", ("id", id), ("reason", "not mine to do"));
        using var auditorKill = await auditor.PostFormAsync("/?handler=Kill", "/integrity", ("labelPrefix", "roles"), ("reason", "nope"));
        using var operatorAudit = await operatorOnly.Http.GetAsync("/audit");
        using var operatorVerify = await operatorOnly.PostFormAsync("/integrity?handler=Verify", "/");
        using var noAntiforgery = await operatorOnly.Http.PostAsync("/?handler=Revoke", new FormUrlEncodedContent([new("id", id), new("reason", "forged")]));
        using var noReason = await operatorOnly.PostFormAsync("/?handler=Revoke", "/", ("id", id), ("reason", " "));

        Assert.Equal(HttpStatusCode.Forbidden, auditorRevoke.StatusCode);
        Assert.Contains("lacks the role", await auditorRevoke.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, auditorKill.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, operatorAudit.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, operatorVerify.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, noAntiforgery.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, noReason.StatusCode);
        Assert.Equal("active", await Host.KeyStatusAsync(id));

        using var revoked = await operatorOnly.PostFormAsync("/?handler=Revoke", "/", ("id", id), ("reason", "done by on-call"));
        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);
        Assert.Equal("revoked", await Host.KeyStatusAsync(id));
        using var key = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/keys/{id}"));
        Assert.Equal("principal:oncall", key.RootElement.GetProperty("revoked_by").GetString());
    }

    [Fact]
    public async Task FormToken_OnlyWorksForThePrincipalWhosePageIssuedIt()
    {
        var (id, _) = await Host.CreateKeyAsync("bound-run", "stripe", ["GET /v1/customers/*"]);
        var alice = await Principals.CreateAsync(Host, "alice", "operator");
        using var browser = new Browser(Host.AdminUrl);
        (await browser.SignInAsync(alice)).Dispose();
        var alicesToken = await browser.FormTokenAsync("/");

        // The same browser (so the same antiforgery cookie) now carries mallory's session.
        (await browser.SignInAsync(await Principals.CreateAsync(Host, "mallory", "operator"))).Dispose();
        using var replayed = await browser.Http.PostAsync("/?handler=Revoke", Form(("id", id), ("reason", "riding alice's form"), ("__RequestVerificationToken", alicesToken)));
        var statusAfterReplay = await Host.KeyStatusAsync(id);
        (await browser.SignInAsync(alice)).Dispose();
        using var own = await browser.Http.PostAsync("/?handler=Revoke", Form(("id", id), ("reason", "alice's own form"), ("__RequestVerificationToken", alicesToken)));

        Assert.Equal(HttpStatusCode.BadRequest, replayed.StatusCode);
        Assert.Equal("active", statusAfterReplay);
        Assert.Equal(HttpStatusCode.Redirect, own.StatusCode);
        using var key = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/keys/{id}"));
        Assert.Equal(("revoked", "principal:alice"), (key.RootElement.GetProperty("status").GetString(), key.RootElement.GetProperty("revoked_by").GetString()));
    }

    [Fact]
    public async Task SignOut_WithTheFormOfASignedInPage_EndsTheSession()
    {
        using var browser = new Browser(Host.AdminUrl);
        (await browser.SignInAsync(KeyBrakeHost.AdminToken)).Dispose();

        using var signOut = await browser.PostFormAsync("/signout", "/"); // the layout's form, its token bound to the principal
        using var home = await browser.Http.GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal("/signin", signOut.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, home.StatusCode);
    }

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    [Fact]
    public async Task KillSwitch_RevokesEveryKeyOfTheRun_OnlyThose()
    {
        var (a, _) = await Host.CreateKeyAsync("run-77-stripe", "stripe", ["GET /v1/customers/*"]);
        var (b, _) = await Host.CreateKeyAsync("run-77-resend", "resend", ["POST /emails"]);
        var (other, _) = await Host.CreateKeyAsync("run-78-stripe", "stripe", ["GET /v1/customers/*"]);
        using var browser = new Browser(Host.AdminUrl);
        (await browser.SignInAsync(KeyBrakeHost.AdminToken)).Dispose();

        using var kill = await browser.PostFormAsync("/?handler=Kill", "/", ("labelPrefix", "run-77"), ("reason", "runaway batch"));
        var page = await browser.Http.GetStringAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, kill.StatusCode);
        Assert.Equal(("revoked", "revoked", "active"), (await Host.KeyStatusAsync(a), await Host.KeyStatusAsync(b), await Host.KeyStatusAsync(other)));
        Assert.Contains("Revoked 2 key(s) with label prefix", page);
    }

    [Fact]
    public async Task DisabledPrincipal_SessionEndsAtOnce()
    {
        using var browser = new Browser(Host.AdminUrl);
        (await browser.SignInAsync(await Principals.CreateAsync(Host, "leaver", "operator", "auditor"))).Dispose();
        using (var before = await browser.Http.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        (await Host.Admin.DeleteAsync("/v1/principals/leaver")).EnsureSuccessStatusCode();
        using var after = await browser.Http.GetAsync("/");
        using var api = await browser.Http.GetAsync("/v1/keys");

        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }
}

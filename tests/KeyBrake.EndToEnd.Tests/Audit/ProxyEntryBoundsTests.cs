using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Audit;

/// <summary>
/// A key holder must not grow the audit chain by its request body per call (security review, HIGH): a refused call
/// with a 900 KB recipient still leaves one bounded <c>proxy.denied</c> entry, and nothing of the recipient but its
/// masked, bounded form.
/// </summary>
public sealed class ProxyEntryBoundsTests : HostedTest
{
    private const int MaxEntryBytes = 8 * 1024;

    [Fact]
    public async Task DeniedCall_900KbRecipient_EntryUnder8Kb_StillDenied_NothingForwarded()
    {
        var (id, token) = await Host.CreateKeyAsync("bounds-run-1", "stripe", ["POST /v1/charges"], cap: 0);
        var huge = "Jane+Doe+DOB+1990-01-01:%2B1" + new string('5', 900_000);

        using var call = await Host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(HttpMethod.Post, "/stripe/v1/charges", token,
            new StringContent($"amount=100&currency=usd&to={huge}&to=2", Encoding.UTF8, "application/x-www-form-urlencoded")));
        await Host.AuditFlushedAsync();

        Assert.Equal(HttpStatusCode.UnprocessableEntity, call.StatusCode);
        Assert.Empty(Vendor.Received);
        var denied = (await Host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={id}&type=proxy.denied")).GetProperty("entries").EnumerateArray().Single();
        var raw = denied.GetRawText();
        Assert.InRange(Encoding.UTF8.GetByteCount(raw), 1, MaxEntryBytes);
        Assert.StartsWith("deny:", denied.GetProperty("decision").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Jane", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("1990", raw, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('5', 100), raw, StringComparison.Ordinal);
        Assert.Equal((0m, 0m), await SpendAsync(id));
    }

    private async Task<(decimal Spent, decimal Reserved)> SpendAsync(string id)
    {
        using var key = JsonDocument.Parse(await Host.Admin.GetStringAsync($"/v1/keys/{id}"));
        return (key.RootElement.GetProperty("spent_today_usd").GetDecimal(), key.RootElement.GetProperty("reserved_usd").GetDecimal());
    }
}

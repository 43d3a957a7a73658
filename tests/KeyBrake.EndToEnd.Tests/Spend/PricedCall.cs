using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using KeyBrake.EndToEnd.Tests.Support;

namespace KeyBrake.EndToEnd.Tests.Spend;

/// <summary>Sends a write with exactly the bytes and headers given, and checks what pricing made of it (SPEC §5).</summary>
internal static class PricedCall
{
    public static Task<HttpResponseMessage> SendAsync(KeyBrakeHost host, string token, string method, string path, string? contentType, byte[] body,
        string? contentEncoding = null)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", contentType));
        }
        if (contentEncoding is not null)
        {
            Assert.True(content.Headers.TryAddWithoutValidation("Content-Encoding", contentEncoding));
        }
        return host.Proxy.SendAsync(KeyBrakeHost.ProxyRequest(new HttpMethod(method), path, token, content));
    }

    /// <summary>422 <c>unpriceable_request</c>, nothing reached the vendor, nothing spent or reserved, a denied entry.</summary>
    public static async Task AssertUnpriceableAsync(KeyBrakeHost host, FakeVendor vendor, string id, HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, await response.Content.ReadAsStringAsync());
        Assert.Equal("unpriceable_request", (await ErrorJson.ReadAsync(response)).GetProperty("code").GetString());
        Assert.Empty(vendor.Received);
        Assert.Equal((0m, 0m), await SpendAsync(host, id));
        await host.AuditFlushedAsync();
        var denied = await host.Admin.GetFromJsonAsync<JsonElement>($"/v1/audit?key_id={id}&type=proxy.denied");
        Assert.Equal("deny:unpriceable_request", denied.GetProperty("entries")[0].GetProperty("decision").GetString());
    }

    /// <summary>Priced at <paramref name="requestedUsd"/> and refused by the cap: 402, nothing reached the vendor, nothing spent or reserved.</summary>
    public static async Task AssertOverCapAsync(KeyBrakeHost host, FakeVendor vendor, string id, HttpResponseMessage response, decimal requestedUsd)
    {
        Assert.True(response.StatusCode == HttpStatusCode.PaymentRequired, await response.Content.ReadAsStringAsync());
        Assert.Equal(requestedUsd, (await ErrorJson.ReadAsync(response)).GetProperty("requested_usd").GetDecimal());
        Assert.Empty(vendor.Received);
        Assert.Equal((0m, 0m), await SpendAsync(host, id));
    }

    /// <summary>The key's spent_today_usd and reserved_usd as the admin API reports them.</summary>
    public static async Task<(decimal Spent, decimal Reserved)> SpendAsync(KeyBrakeHost host, string id)
    {
        var key = await host.Admin.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}");
        return (key.GetProperty("spent_today_usd").GetDecimal(), key.GetProperty("reserved_usd").GetDecimal());
    }
}

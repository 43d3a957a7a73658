using System.Text.Json;
using KeyBrake.Keys;

namespace KeyBrake.Tests.Keys;

public sealed class KeyRequestsTests
{
    private static readonly DateTimeOffset Created = new(2026, 6, 3, 9, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("2026-06-04T09:00:00Z", "2026-06-04T09:00:00.000Z")]
    [InlineData("2026-06-04T09:00:00.1234Z", "2026-06-04T09:00:00.123Z")]
    [InlineData("2026-06-04T04:00:00-05:00", "2026-06-04T09:00:00.000Z")]
    [InlineData("2026-06-04T11:00:00+02:00", "2026-06-04T09:00:00.000Z")]
    public void ParsePatch_ExpiresAtWithAZone_IsUtcToTheMillisecond(string text, string expected)
    {
        var errors = new List<FieldError>();
        var patch = KeyRequests.ParsePatch(Json($$"""{"expires_at":"{{text}}","justification":"j"}"""), Created, TimeSpan.FromDays(7), errors);

        Assert.Empty(errors);
        Assert.Equal(expected, KeyBrake.Storage.Timestamps.ToText(patch!.ExpiresAt!.Value));
    }

    [Theory]
    [InlineData("2026-06-04T09:00:00")]
    [InlineData("2026-06-04")]
    [InlineData("tomorrow")]
    [InlineData("2026-06-10T09:00:00.001Z")]
    public void ParsePatch_ExpiresAtWithoutZoneOrPastMaxTtl_IsRefused(string text)
    {
        var errors = new List<FieldError>();

        Assert.Null(KeyRequests.ParsePatch(Json($$"""{"expires_at":"{{text}}","justification":"j"}"""), Created, TimeSpan.FromDays(7), errors));
        Assert.Contains(errors, e => e.Field == "expires_at");
    }

    [Fact]
    public void ParsePatch_NothingToChange_IsRefused()
    {
        var errors = new List<FieldError>();

        Assert.Null(KeyRequests.ParsePatch(Json("""{"justification":"j"}"""), Created, TimeSpan.FromDays(7), errors));
        Assert.Contains(errors, e => e.Field == "body");
    }

    [Fact]
    public void ParseCreate_Valid_KeepsMetadataCompactAndDefaultsTheTtl()
    {
        var errors = new List<FieldError>();
        var key = KeyRequests.ParseCreate(
            Json("""{ "label":"run-1", "vendor":"stripe", "allowed_endpoints":["GET /v1/x"], "daily_usd_cap":0.5, "metadata": { "a" : "b", "n": 3 } }"""),
            ["stripe"], TimeSpan.FromDays(7), TimeSpan.FromHours(1), errors);

        Assert.Empty(errors);
        Assert.Equal(500_000, key!.DailyCap.Value);
        Assert.Equal(TimeSpan.FromHours(1), key.ExpiresIn);
        Assert.Equal("""{"a":"b","n":3}""", key.MetadataJson);
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}

using KeyBrake.Keys;
using KeyBrake.Policy;

namespace KeyBrake.Storage.Postgres.Tests;

internal static class TestKeys
{
    /// <summary>An active key labelled <c>run-1</c>, created at <paramref name="createdAt"/>, expiring a day later.</summary>
    public static VaultKey Key(string id, DateTimeOffset createdAt) => new()
    {
        Id = id,
        TokenHash = VaultToken.Hash(id),
        Label = "run-1",
        Vendor = "stripe",
        Endpoints = EndpointPolicy.FromValidated(["GET /v1/balance"]),
        DailyCapMicros = 1,
        ExpiresAt = createdAt.AddDays(1),
        CreatedAt = createdAt,
        CreatedBy = "principal:ops",
        MetadataJson = "{}",
        PolicyHash = new string('0', 64),
    };
}

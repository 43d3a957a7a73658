using KeyBrake.Keys;
using KeyBrake.Policy;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.Tests.Keys;

public sealed class RefusedKeysTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 3, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan MaxTtl = TimeSpan.FromDays(7);
    private readonly FakeTimeProvider _time = new(Now);

    [Fact]
    public void Apply_NothingRefused_ReturnsTheSameKey()
    {
        var key = Key("key_1", "run-1");

        Assert.Same(key, new RefusedKeys(_time).Apply(key));
    }

    [Fact]
    public void Refuse_ById_MakesThatKeyRevokedWithItsActorAndReason_AndNoOther()
    {
        var refused = new RefusedKeys(_time);

        refused.Refuse(new KeyRevocation("key_1", null, Now, "principal:ops", "looping"), MaxTtl);

        var key = refused.Apply(Key("key_1", "run-1"));
        Assert.Equal((Now, "principal:ops", "looping", KeyStatus.Revoked), (key.RevokedAt, key.RevokedBy, key.RevokeReason, key.StatusAt(Now)));
        Assert.Null(refused.Apply(Key("key_2", "run-1")).RevokedAt);
    }

    [Fact]
    public void Refuse_ByPrefix_CoversKeysCreatedUpToTheKillSwitch_NotLaterRuns()
    {
        var refused = new RefusedKeys(_time);

        refused.Refuse(new KeyRevocation(null, "batch-447", Now, "principal:ops", "kill"), MaxTtl);

        Assert.NotNull(refused.Apply(Key("key_1", "batch-447-a")).RevokedAt);
        Assert.Null(refused.Apply(Key("key_2", "batch-448-a")).RevokedAt);
        Assert.Null(refused.Apply(Key("key_3", "BATCH-447-a")).RevokedAt);                                    // case-sensitive, like the store
        Assert.Null(refused.Apply(Key("key_4", "batch-447-b") with { CreatedAt = Now.AddMilliseconds(1) }).RevokedAt); // a run started after it
    }

    [Fact]
    public void Settle_KeepsThePrefixBesideTheIdsTheStoreRevoked_UntilMaxTtl()
    {
        var refused = new RefusedKeys(_time);
        var kill = new KeyRevocation(null, "batch-447", Now, "principal:ops", "kill");
        refused.Refuse(kill, MaxTtl);

        refused.Settle(kill, [Key("key_1", "batch-447-a")], MaxTtl);

        Assert.NotNull(refused.Apply(Key("key_1", "batch-447-a")).RevokedAt);
        // A key created before the kill switch whose row the store's update did not see (its creation was waiting for
        // its key.created entry): still refused, and KeyService revokes it in the store once the row is written.
        Assert.NotNull(refused.Apply(Key("key_9", "batch-447-z")).RevokedAt);
        Assert.Null(refused.Apply(Key("key_10", "batch-447-z") with { CreatedAt = Now.AddMilliseconds(1) }).RevokedAt);
        _time.Advance(MaxTtl + TimeSpan.FromSeconds(1));
        refused.Refuse(new KeyRevocation("key_2", null, _time.GetUtcNow(), "principal:ops", null), MaxTtl); // prunes on change
        Assert.Null(refused.Apply(Key("key_1", "batch-447-a")).RevokedAt);
        Assert.Null(refused.Apply(Key("key_9", "batch-447-z")).RevokedAt);
        Assert.NotNull(refused.Apply(Key("key_2", "run-2")).RevokedAt);
    }

    private static VaultKey Key(string id, string label) => new()
    {
        Id = id,
        TokenHash = "h_" + id,
        Label = label,
        Vendor = "stripe",
        Endpoints = EndpointPolicy.FromValidated(["GET /v1/x"]),
        DailyCapMicros = 1,
        ExpiresAt = Now.AddHours(1),
        CreatedAt = Now,
        CreatedBy = "principal:ops",
        MetadataJson = "{}",
        PolicyHash = "p",
    };
}

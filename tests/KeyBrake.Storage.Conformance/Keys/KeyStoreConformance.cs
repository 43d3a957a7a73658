using System.Data.Common;
using KeyBrake.Keys;
using KeyBrake.Policy;
using Microsoft.Extensions.DependencyInjection;

namespace KeyBrake.Storage.Conformance.Keys;

/// <summary>
/// The contract of <see cref="IKeyStore"/> (SPEC §3, §6): every field kept, listing by status at a given instant,
/// literal label prefixes, a revocation that hands a key back to exactly one caller, and the key.expired sweep's list.
/// </summary>
public abstract class KeyStoreConformance : StoreConformance
{
    private static readonly DateTimeOffset Now = new(2026, 6, 3, 12, 0, 0, TimeSpan.Zero);

    private IKeyStore Keys => Store.GetRequiredService<IKeyStore>();

    [Fact]
    public async Task InsertAsync_ThenFindByIdAndByTokenHash_ReturnEveryField()
    {
        var key = Key("key_full", "run-447/ünï", "stripe") with
        {
            Endpoints = EndpointPolicy.FromValidated(["POST /v1/payment_intents", "GET /v1/customers/*", "/v1/refunds"]),
            DailyCapMicros = 9_007_199_254_740_993, // above 2^53: never through a double
            StripeAccounts = ["acct_1", "acct_2"],
            ExpiresAt = new DateTimeOffset(2026, 6, 4, 1, 2, 3, 456, TimeSpan.Zero),
            CreatedAt = new DateTimeOffset(2026, 6, 3, 9, 8, 7, 654, TimeSpan.FromHours(2)), // an instant, whatever its offset
            CreatedBy = "principal:ops",
            MetadataJson = """{"ticket":"OPS-1","owner":"ana"}""",
        };

        await Keys.InsertAsync(key, CancellationToken.None);

        AssertSameKey(key, await Keys.FindByIdAsync("key_full", CancellationToken.None));
        AssertSameKey(key, await Keys.FindByTokenHashAsync(key.TokenHash, CancellationToken.None));
        Assert.Null(await Keys.FindByIdAsync("key_none", CancellationToken.None));
        Assert.Null(await Keys.FindByTokenHashAsync(new string('0', 64), CancellationToken.None));
    }

    [Theory]
    [InlineData(null, null, null, 100, new[] { "k01", "k02", "k03", "k04", "k05", "k06", "k07", "k08" })]
    [InlineData(KeyStatus.Active, null, null, 100, new[] { "k01", "k04", "k05", "k06" })]
    [InlineData(KeyStatus.Expired, null, null, 100, new[] { "k02", "k07" })]           // k07 expires at exactly now
    [InlineData(KeyStatus.Revoked, null, null, 100, new[] { "k03", "k08" })]           // k08 also expired: revoked wins
    [InlineData(null, "openai", null, 100, new[] { "k03", "k04" })]
    [InlineData(null, null, "run-1", 100, new[] { "k01", "k02", "k03" })]              // not RUN-1/c: case counts
    [InlineData(null, null, "a%b", 100, new[] { "k05" })]                              // literally, not axbyc
    [InlineData(null, null, "a_", 100, new string[0])]
    [InlineData(null, null, null, 3, new[] { "k01", "k02", "k03" })]                   // ordered by id, then cut
    [InlineData(KeyStatus.Active, "twilio", "a%", 100, new[] { "k05" })]
    public async Task ListAsync_Filters_AtTheGivenNow_OrderedById(KeyStatus? status, string? vendor, string? prefix, int limit, string[] expected)
    {
        await InsertListedKeysAsync();

        var listed = await Keys.ListAsync(new KeyQuery(status, vendor, prefix, limit), Now, CancellationToken.None);

        Assert.Equal(expected, listed.Select(k => k.Id));
    }

    [Fact]
    public async Task ListAsync_Status_IsJudgedAtTheGivenNow()
    {
        await InsertListedKeysAsync();

        var later = await Keys.ListAsync(new KeyQuery(KeyStatus.Expired, null, null, 100), Now.AddHours(2), CancellationToken.None);
        var earlier = await Keys.ListAsync(new KeyQuery(KeyStatus.Active, null, null, 100), Now.AddHours(-2), CancellationToken.None);

        Assert.Equal(["k01", "k02", "k04", "k05", "k06", "k07"], later.Select(k => k.Id));
        Assert.Equal(["k01", "k02", "k04", "k05", "k06", "k07"], earlier.Select(k => k.Id));
    }

    [Fact]
    public async Task UpdatePolicyAsync_ActiveKeyReplacesItsPolicy_RevokedOrMissingKeyIsFalseAndUnchanged()
    {
        var active = Key("key_a", "run-1", "stripe");
        var revoked = Key("key_r", "run-1", "stripe");
        await Keys.InsertAsync(active, CancellationToken.None);
        await Keys.InsertAsync(revoked, CancellationToken.None);
        await Keys.RevokeAsync(new KeyRevocation("key_r", null, Now, "principal:ops", null), CancellationToken.None);
        VaultKey Replaced(VaultKey key) => key with
        {
            Endpoints = EndpointPolicy.FromValidated(["GET /v1/balance"]),
            DailyCapMicros = 42,
            StripeAccounts = ["acct_9"],
            ExpiresAt = Now.AddDays(7),
            PolicyHash = new string('f', 64),
        };

        Assert.True(await Keys.UpdatePolicyAsync(Replaced(active), CancellationToken.None));
        Assert.False(await Keys.UpdatePolicyAsync(Replaced(revoked), CancellationToken.None));
        Assert.False(await Keys.UpdatePolicyAsync(Replaced(Key("key_none", "run-1", "stripe")), CancellationToken.None));

        AssertSameKey(Replaced(active), await Keys.FindByIdAsync("key_a", CancellationToken.None));
        var stillRevoked = await Keys.FindByIdAsync("key_r", CancellationToken.None);
        AssertSameKey(revoked with { RevokedAt = Now, RevokedBy = "principal:ops" }, stillRevoked);
        Assert.Null(await Keys.FindByIdAsync("key_none", CancellationToken.None));
    }

    [Fact]
    public async Task RevokeAsync_ById_ReturnsTheKeyRevokedOnce_ThenNothing()
    {
        var key = Key("key_1", "run-1", "stripe");
        await Keys.InsertAsync(key, CancellationToken.None);
        var revocation = new KeyRevocation("key_1", null, Now.AddMinutes(5), "principal:ops", "leaked in a log");

        var first = await Keys.RevokeAsync(revocation, CancellationToken.None);
        var second = await Keys.RevokeAsync(revocation with { At = Now.AddMinutes(6), By = "principal:other" }, CancellationToken.None);

        var revoked = key with { RevokedAt = Now.AddMinutes(5), RevokedBy = "principal:ops", RevokeReason = "leaked in a log" };
        AssertSameKey(revoked, Assert.Single(first));
        Assert.Empty(second);
        AssertSameKey(revoked, await Keys.FindByIdAsync("key_1", CancellationToken.None)); // the first revocation stands
        Assert.Empty(await Keys.RevokeAsync(revocation with { Id = "key_none" }, CancellationToken.None));
    }

    [Fact]
    public async Task RevokeAsync_ByPrefix_OnlyKeysCreatedAtOrBeforeAt_MatchedLiterally()
    {
        await Keys.InsertAsync(Key("key_1", "run-447/a", "stripe") with { CreatedAt = Now.AddHours(-1) }, CancellationToken.None);
        await Keys.InsertAsync(Key("key_2", "run-447/b", "openai") with { CreatedAt = Now }, CancellationToken.None);          // at At: included
        await Keys.InsertAsync(Key("key_3", "run-447/c", "stripe") with { CreatedAt = Now.AddMilliseconds(1) }, CancellationToken.None); // after: a new run
        await Keys.InsertAsync(Key("key_4", "RUN-447/d", "stripe") with { CreatedAt = Now.AddHours(-1) }, CancellationToken.None);
        await Keys.InsertAsync(Key("key_5", "run-4470", "stripe") with { CreatedAt = Now.AddHours(-1) }, CancellationToken.None);
        await Keys.InsertAsync(Key("key_6", "run_447/e", "stripe") with { CreatedAt = Now.AddHours(-1) }, CancellationToken.None);
        await Keys.RevokeAsync(new KeyRevocation("key_5", null, Now.AddHours(-1), "principal:ops", null), CancellationToken.None);

        var revoked = await Keys.RevokeAsync(new KeyRevocation(null, "run-447", Now, "principal:ops", "kill switch"), CancellationToken.None);
        var again = await Keys.RevokeAsync(new KeyRevocation(null, "run-447", Now.AddMinutes(1), "principal:ops", "again"), CancellationToken.None);
        var wildcard = await Keys.RevokeAsync(new KeyRevocation(null, "run_", Now, "principal:ops", null), CancellationToken.None);

        // key_5 (run-4470) matches the prefix but was revoked before: not handed back again.
        Assert.Equal(["key_1", "key_2"], revoked.Select(k => k.Id).Order(StringComparer.Ordinal));
        Assert.All(revoked, k => Assert.Equal((Now, "principal:ops", "kill switch"), (k.RevokedAt!.Value, k.RevokedBy!, k.RevokeReason!)));
        Assert.Equal(["key_3"], again.Select(k => k.Id)); // created before this second At
        Assert.Equal(["key_6"], wildcard.Select(k => k.Id));
        Assert.Null((await Keys.FindByIdAsync("key_4", CancellationToken.None))!.RevokedAt);
    }

    [Fact]
    public async Task RevokeAsync_TwentyRacingRevocationsOfOneKey_ExactlyOneCallerGetsItBack()
    {
        await Keys.InsertAsync(Key("key_1", "run-1", "stripe"), CancellationToken.None);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            var revocation = new KeyRevocation("key_1", null, Now.AddMilliseconds(i), "principal:racer" + i, null);
            while (true)
            {
                try
                {
                    return await Keys.RevokeAsync(revocation, CancellationToken.None);
                }
                catch (DbException)
                {
                    // A busy store fails fast; the host's revocation writer retries, and so does this racer.
                }
            }
        })));

        var winner = Assert.Single(results, r => r.Count == 1);
        Assert.All(results, r => Assert.InRange(r.Count, 0, 1));
        var stored = await Keys.FindByIdAsync("key_1", CancellationToken.None);
        Assert.Equal((winner[0].RevokedAt, winner[0].RevokedBy), (stored!.RevokedAt, stored.RevokedBy));
    }

    [Fact]
    public async Task ListUnrecordedExpiriesAsync_ExpiredKeysNotYetRecorded_ExceptKeysRevokedBeforeTheyExpired()
    {
        await Keys.InsertAsync(Key("key_e2", "a", "stripe") with { ExpiresAt = Now.AddHours(-2) }, CancellationToken.None);
        await Keys.InsertAsync(Key("key_e1", "a", "stripe") with { ExpiresAt = Now.AddHours(-3) }, CancellationToken.None);
        await Keys.InsertAsync(Key("key_e3", "a", "stripe") with { ExpiresAt = Now.AddHours(-2) }, CancellationToken.None);
        await Keys.InsertAsync(Key("key_at", "a", "stripe") with { ExpiresAt = Now }, CancellationToken.None);
        await Keys.InsertAsync(Key("key_recorded", "a", "stripe") with { ExpiresAt = Now.AddHours(-4) }, CancellationToken.None);
        await Keys.InsertAsync(Key("key_revoked_first", "a", "stripe") with { ExpiresAt = Now.AddHours(-1) }, CancellationToken.None);
        await Keys.InsertAsync(Key("key_revoked_after", "a", "stripe") with { ExpiresAt = Now.AddHours(-5) }, CancellationToken.None);
        await Keys.InsertAsync(Key("key_active", "a", "stripe") with { ExpiresAt = Now.AddMilliseconds(1) }, CancellationToken.None);
        await Keys.RevokeAsync(new KeyRevocation("key_revoked_first", null, Now.AddHours(-3), "principal:ops", null), CancellationToken.None);
        await Keys.RevokeAsync(new KeyRevocation("key_revoked_after", null, Now.AddHours(-4), "principal:ops", null), CancellationToken.None);
        await Keys.MarkExpiryRecordedAsync("key_recorded", Now.AddHours(-4), CancellationToken.None);

        var all = await Keys.ListUnrecordedExpiriesAsync(Now, 100, CancellationToken.None);
        var two = await Keys.ListUnrecordedExpiriesAsync(Now, 2, CancellationToken.None);
        await Keys.MarkExpiryRecordedAsync("key_revoked_after", Now, CancellationToken.None);
        await Keys.MarkExpiryRecordedAsync("key_e1", Now, CancellationToken.None);
        await Keys.MarkExpiryRecordedAsync("key_e1", Now.AddHours(1), CancellationToken.None); // again: harmless
        var rest = await Keys.ListUnrecordedExpiriesAsync(Now, 100, CancellationToken.None);

        // Oldest expiry first, then by id; a key revoked after it expired still gets its key.expired.
        Assert.Equal(["key_revoked_after", "key_e1", "key_e2", "key_e3", "key_at"], all.Select(k => k.Id));
        Assert.Equal(["key_revoked_after", "key_e1"], two.Select(k => k.Id));
        Assert.Equal(["key_e2", "key_e3", "key_at"], rest.Select(k => k.Id));
    }

    /// <summary>Eight keys as <see cref="ListAsync_Filters_AtTheGivenNow_OrderedById"/> lists them, inserted out of id order.</summary>
    private async Task InsertListedKeysAsync()
    {
        VaultKey[] keys =
        [
            Key("k06", "axbyc", "twilio"),
            Key("k02", "run-1/b", "stripe") with { ExpiresAt = Now.AddHours(-1) },
            Key("k08", "run-2", "stripe") with { ExpiresAt = Now.AddHours(-1) },
            Key("k04", "RUN-1/c", "openai"),
            Key("k01", "run-1/a", "stripe"),
            Key("k07", "run-3", "stripe") with { ExpiresAt = Now },
            Key("k03", "run-10", "openai"),
            Key("k05", "a%b_c", "twilio"),
        ];
        foreach (var key in keys)
        {
            await Keys.InsertAsync(key, CancellationToken.None);
        }
        await Keys.RevokeAsync(new KeyRevocation("k03", null, Now.AddHours(-3), "principal:ops", null), CancellationToken.None);
        await Keys.RevokeAsync(new KeyRevocation("k08", null, Now.AddHours(-3), "principal:ops", null), CancellationToken.None);
    }

    private static VaultKey Key(string id, string label, string vendor) => new()
    {
        Id = id,
        TokenHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("token:" + id))),
        Label = label,
        Vendor = vendor,
        Endpoints = EndpointPolicy.FromValidated(["POST /v1/payment_intents"]),
        DailyCapMicros = 5_000_000,
        ExpiresAt = Now.AddHours(1),
        CreatedAt = Now.AddHours(-6),
        CreatedBy = "principal:ops",
        MetadataJson = "{}",
        PolicyHash = new string('a', 64),
    };

    /// <summary>Field by field: the policy and the Stripe accounts are lists, compared by content.</summary>
    private static void AssertSameKey(VaultKey expected, VaultKey? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Endpoints.Texts, actual.Endpoints.Texts);
        Assert.Equal(expected.StripeAccounts, actual.StripeAccounts);
        Assert.Equal(expected.ExpiresAt.UtcTicks, actual.ExpiresAt.UtcTicks);
        Assert.Equal(expected.CreatedAt.UtcTicks, actual.CreatedAt.UtcTicks);
        Assert.Equal(expected.RevokedAt?.UtcTicks, actual.RevokedAt?.UtcTicks);
        Assert.Equal(
            expected with { Endpoints = actual.Endpoints, StripeAccounts = actual.StripeAccounts, ExpiresAt = actual.ExpiresAt, CreatedAt = actual.CreatedAt, RevokedAt = actual.RevokedAt },
            actual);
    }
}

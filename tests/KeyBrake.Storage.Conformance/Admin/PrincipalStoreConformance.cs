using KeyBrake.Admin;
using Microsoft.Extensions.DependencyInjection;

namespace KeyBrake.Storage.Conformance.Admin;

/// <summary>The contract of <see cref="IPrincipalStore"/> (SPEC §6): names are unique, tokens are found by their hash only.</summary>
public abstract class PrincipalStoreConformance : StoreConformance
{
    private static readonly DateTimeOffset Now = new(2026, 6, 3, 12, 0, 0, 123, TimeSpan.Zero);

    private IPrincipalStore Principals => Store.GetRequiredService<IPrincipalStore>();

    [Fact]
    public async Task InsertAsync_ThenFindByTokenHash_ReturnsThePrincipal_AndADuplicateNameIsFalse()
    {
        var ops = new Principal("ops", Roles.Operator | Roles.Auditor, Now, "principal:admin", null);

        var inserted = await Principals.InsertAsync(ops, Hash("ops-token"), CancellationToken.None);
        var duplicate = await Principals.InsertAsync(ops with { Roles = Roles.Admin }, Hash("other-token"), CancellationToken.None);

        Assert.True(inserted);
        Assert.False(duplicate);
        Assert.Equal(ops, await Principals.FindByTokenHashAsync(Hash("ops-token"), CancellationToken.None));
        Assert.Null(await Principals.FindByTokenHashAsync(Hash("other-token"), CancellationToken.None));
        Assert.Equal(1, await Principals.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task UpsertAsync_ExistingName_ReplacesTokenAndRoles_AndEnablesItAgain()
    {
        var admin = new Principal("admin", Roles.Admin, Now, "config", null);
        await Principals.UpsertAsync(admin, Hash("first"), CancellationToken.None);
        Assert.True(await Principals.DisableAsync("admin", Now.AddHours(1), CancellationToken.None));
        Assert.NotNull((await Principals.FindByTokenHashAsync(Hash("first"), CancellationToken.None))!.DisabledAt);

        await Principals.UpsertAsync(admin with { Roles = Roles.All, CreatedAt = Now.AddDays(1) }, Hash("second"), CancellationToken.None);

        Assert.Null(await Principals.FindByTokenHashAsync(Hash("first"), CancellationToken.None));
        var found = await Principals.FindByTokenHashAsync(Hash("second"), CancellationToken.None);
        Assert.Equal(("admin", Roles.All, (DateTimeOffset?)null), (found!.Name, found.Roles, found.DisabledAt));
        Assert.Equal(1, await Principals.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task DisableAsync_Once_ThenFalse_AndFalseForAnUnknownName()
    {
        await Principals.InsertAsync(new Principal("ops", Roles.Operator, Now, "principal:admin", null), Hash("ops"), CancellationToken.None);

        var first = await Principals.DisableAsync("ops", Now.AddMinutes(1), CancellationToken.None);
        var second = await Principals.DisableAsync("ops", Now.AddMinutes(2), CancellationToken.None);
        var unknown = await Principals.DisableAsync("nobody", Now, CancellationToken.None);

        Assert.Equal((true, false, false), (first, second, unknown));
        Assert.Equal(Now.AddMinutes(1), (await Principals.FindByTokenHashAsync(Hash("ops"), CancellationToken.None))!.DisabledAt);
    }

    [Fact]
    public async Task ListAsync_EveryPrincipalOrderedByName_AndCountAsyncCountsThem()
    {
        Assert.Equal(0, await Principals.CountAsync(CancellationToken.None));
        Assert.Empty(await Principals.ListAsync(CancellationToken.None));
        foreach (var name in new[] { "carol", "alice", "bob" })
        {
            Assert.True(await Principals.InsertAsync(new Principal(name, Roles.Auditor, Now, "principal:admin", null), Hash(name), CancellationToken.None));
        }
        await Principals.DisableAsync("bob", Now, CancellationToken.None);

        var listed = await Principals.ListAsync(CancellationToken.None);

        Assert.Equal(["alice", "bob", "carol"], listed.Select(p => p.Name));
        Assert.Equal([null, Now, null], listed.Select(p => p.DisabledAt));
        Assert.Equal(3, await Principals.CountAsync(CancellationToken.None));
    }

    private static string Hash(string token) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
}

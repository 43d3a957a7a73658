namespace KeyBrake.Storage.Conformance;

/// <summary>
/// What every suite stands on: each test (xunit makes a new instance per test) gets a fresh store of the engine under
/// test, built as the host builds it: the engine's <c>AddKeyBrake…Storage</c> on a service collection, migrated. An
/// engine's test project derives each suite once and says how to make and remove that store.
/// </summary>
public abstract class StoreConformance : IAsyncLifetime
{
    /// <summary>Disposed after the test, last first: providers, then what was built over them (writers).</summary>
    private readonly List<object> _owned = [];

    /// <summary>
    /// The store's clock: <see cref="CreateStoreAsync"/> registers it as the provider's <see cref="TimeProvider"/>, so
    /// a suite can move time (the ledger's UTC day).
    /// </summary>
    protected Microsoft.Extensions.Time.Testing.FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 6, 3, 12, 0, 0, TimeSpan.Zero));

    /// <summary>The store of this test (<see cref="CreateStoreAsync"/>).</summary>
    protected IServiceProvider Store { get; private set; } = null!;

    /// <summary>
    /// A fresh, migrated, empty store: every port resolvable as the engine's <c>AddKeyBrake…Storage</c> registers them
    /// (<c>IStoreEngine</c>, <c>IKeyStore</c>, <c>IPrincipalStore</c>, <c>IAuditChainStore</c>, <c>IAuditReader</c>,
    /// <c>IAuditCommitSignal</c>, <c>IKeyChangeFeed</c>, <c>ISpendLedger</c>), with <see cref="Clock"/> as its time. SQLite: a file in a directory of its own; PostgreSQL: a
    /// database or schema of its own.
    /// </summary>
    protected abstract Task<IServiceProvider> CreateStoreAsync();

    /// <summary>Removes what <see cref="CreateStoreAsync"/> made; called after the test, once every provider is disposed.</summary>
    protected abstract Task DeleteStoreAsync();

    public async Task InitializeAsync() => Store = Own(await CreateStoreAsync());

    /// <summary>Disposes <paramref name="owned"/> (if it is disposable) after the test, before anything owned earlier.</summary>
    protected T Own<T>(T owned)
        where T : notnull
    {
        _owned.Add(owned);
        return owned;
    }

    public virtual async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            switch (_owned[i])
            {
                case IAsyncDisposable disposable:
                    await disposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
        await DeleteStoreAsync();
    }
}

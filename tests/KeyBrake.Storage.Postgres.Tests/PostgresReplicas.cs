using Microsoft.Extensions.DependencyInjection;

namespace KeyBrake.Storage.Postgres.Tests;

/// <summary>
/// Several KeyBrake "processes" on one PostgreSQL database: each replica is a service provider of its own, built as
/// the host builds it, so each has its own pool, its own LISTEN connection and its own caches (SPEC §9).
/// </summary>
public abstract class PostgresReplicas : IAsyncLifetime
{
    private readonly PostgresTestStore _postgres = new();
    private readonly List<ServiceProvider> _replicas = [];

    protected string ConnectionString => _postgres.ConnectionString;

    /// <summary>Another session holding the chain's advisory lock (as another replica's batch does), until disposed.</summary>
    protected IDisposable HoldChainLock() => _postgres.HoldWriteLock();

    /// <summary>The database taken away (every session terminated, new ones refused) or given back.</summary>
    protected Task SetReachableAsync(bool reachable) => _postgres.SetReachableAsync(reachable);

    /// <summary>One more replica on the test's database.</summary>
    protected async Task<IServiceProvider> StartReplicaAsync(TimeProvider time, Action<IServiceCollection>? configure = null)
    {
        var replica = (ServiceProvider)await _postgres.OpenAsync(time, services: configure);
        _replicas.Add(replica);
        return replica;
    }

    protected async Task<IServiceProvider[]> StartReplicasAsync(int count, TimeProvider time, Action<IServiceCollection>? configure = null)
    {
        var replicas = new IServiceProvider[count];
        for (var i = 0; i < count; i++)
        {
            replicas[i] = await StartReplicaAsync(time, configure);
        }
        return replicas;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }
        await _postgres.DeleteAsync();
    }
}

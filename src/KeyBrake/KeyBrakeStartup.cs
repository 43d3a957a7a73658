using KeyBrake.Admin;
using KeyBrake.Audit;
using KeyBrake.Storage;

namespace KeyBrake;

/// <summary>
/// Start-up, in order, before any hosted service starts and before the server listens: the data directory
/// (owner-only, SPEC §2), the store's migrations, the audit log (its tail is checked before anything writes an entry),
/// then the bootstrap principal. Registered first, so its <see cref="StartingAsync"/> runs before every other one.
/// Nothing here may touch the file system before the data directory is prepared: the host builds every hosted service
/// (the audit log among them) before this runs, so the free-space floor takes its first reading in <c>Start</c>.
/// </summary>
internal sealed class KeyBrakeStartup(IServiceProvider services) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<DataDirectory>().Prepare();
        services.GetRequiredService<IStoreEngine>().Migrate();
        services.GetRequiredService<StoreFreeSpace>().Start();
        services.GetRequiredService<AuditLog>().Start();
        // Before the first request: the listeners of a shared store (other replicas' commits and key changes) start here,
        // not in the middle of the first call that needs them.
        services.GetRequiredService<IAuditCommitSignal>();
        services.GetRequiredService<Keys.KeyLookup>();
        services.GetRequiredService<AdminBootstrap>().Run();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

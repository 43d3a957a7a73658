using KeyBrake.Admin;
using KeyBrake.Audit;
using KeyBrake.Storage;

namespace KeyBrake;

/// <summary>
/// Start-up, in order, before any hosted service starts and before the server listens: the data directory
/// (owner-only, SPEC §2), the store's migrations, the audit log (its tail is checked before anything writes an entry),
/// then the bootstrap principal. Registered first, so its <see cref="StartingAsync"/> runs before every other one.
/// </summary>
internal sealed class KeyBrakeStartup(DataDirectory dataDirectory, IStoreEngine store, AuditLog audit, AdminBootstrap bootstrap) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        dataDirectory.Prepare();
        store.Migrate();
        audit.Start();
        bootstrap.Run();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

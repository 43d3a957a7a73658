using System.Runtime.InteropServices;

namespace KeyBrake.Cli;

/// <summary>
/// SIGINT (Ctrl-C), SIGTERM, SIGHUP and SIGQUIT, caught so a command can end cleanly: <see cref="Token"/> is cancelled
/// and <see cref="Received"/> reports each signal (for <c>keybrake run</c> to relay). The process is not killed.
/// </summary>
internal sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly List<PosixSignalRegistration> _registrations = [];

    public Interrupts()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
        }
    }

    public CancellationToken Token => _cancel.Token;

    /// <summary>Raised on the signal's thread for each signal received.</summary>
    public event Action<PosixSignal>? Received;

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Received?.Invoke(context.Signal);
        _cancel.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
        _cancel.Dispose();
    }
}

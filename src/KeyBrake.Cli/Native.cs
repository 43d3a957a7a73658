using System.Runtime.InteropServices;

namespace KeyBrake.Cli;

/// <summary>kill(2): .NET can only SIGKILL another process; <c>keybrake run</c> relays the signal it received.</summary>
internal static partial class Native
{
    public const int SIGINT = 2;
    public const int SIGQUIT = 3;
    public const int SIGTERM = 15;
    public const int SIGHUP = 1;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGINT => SIGINT,
        PosixSignal.SIGQUIT => SIGQUIT,
        PosixSignal.SIGHUP => SIGHUP,
        _ => SIGTERM,
    };

    public static void Signal(int pid, PosixSignal signal)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        _ = Kill(pid, SignalNumber(signal));
    }
}

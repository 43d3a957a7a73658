using System.Net;
using System.Net.Sockets;

namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>
/// Listener ports for the hosts under test, taken below the kernel's ephemeral range (32768+ on Linux): a port the
/// kernel hands out as "free" can be taken by an outgoing connection before the host binds it, and these tests open
/// thousands of them.
/// </summary>
internal static class FreePort
{
    private const int First = 20_000, Last = 32_000;
    private static int s_next = First + (Environment.ProcessId % 100 * 100);

    public static int Next()
    {
        for (var attempt = 0; attempt < Last - First; attempt++)
        {
            var port = First + ((Interlocked.Increment(ref s_next) - First) % (Last - First));
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // in use: try the next one
            }
        }
        throw new InvalidOperationException($"No free port in {First}-{Last}.");
    }
}

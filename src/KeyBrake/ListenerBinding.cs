using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace KeyBrake;

/// <summary>
/// SPEC §2: a listener that cannot bind (its port taken, a privileged port) is an operator's error to be listed with
/// the others, not a crash with a stack trace. Every configured Kestrel endpoint is bound once, as Kestrel would bind
/// it, before anything is started or written; Kestrel's own failure (a port taken between the two) says the same.
/// </summary>
internal static class ListenerBinding
{
    /// <summary>Throws <see cref="ListenerBindException"/> naming every endpoint that cannot be bound.</summary>
    public static void ThrowIfAnyUnbindable(IConfiguration configuration)
    {
        var failures = new List<string>();
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { } url && TryBind(url) is { } problem)
            {
                failures.Add($"Kestrel:Endpoints:{endpoint.Key}:Url: {url} cannot be bound: {problem}");
            }
        }
        if (failures.Count > 0)
        {
            throw new ListenerBindException(failures);
        }
    }

    /// <summary>Kestrel's failure to bind, once it has started binding (the port was taken after the check).</summary>
    public static bool IsBindFailure(Exception e) => e is IOException { InnerException: AddressInUseException } or SocketException;

    private static string? TryBind(string url)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return null; // the listener map reports a malformed URL
        }
        if (address.Host == "localhost")
        {
            return TryBind(IPAddress.Loopback, address.Port)?.Message; // Kestrel also tries [::1], and tolerates its absence
        }
        if (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip))
        {
            return TryBind(ip, address.Port)?.Message;
        }
        // *, + or a name: every interface, IPv6 and IPv4 together, or IPv4 alone on a machine without IPv6 (as Kestrel).
        var failure = TryBind(IPAddress.IPv6Any, address.Port);
        if (failure?.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable)
        {
            failure = TryBind(IPAddress.Any, address.Port);
        }
        return failure?.Message;
    }

    private static SocketException? TryBind(IPAddress ip, int port)
    {
        try
        {
            using var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (ip.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            if (!OperatingSystem.IsWindows())
            {
                // As Kestrel does: a port whose last connections are in TIME_WAIT (a restart) can be bound.
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }
            socket.Bind(new IPEndPoint(ip, port));
            socket.Listen();
            return null;
        }
        catch (SocketException e)
        {
            return e;
        }
    }
}

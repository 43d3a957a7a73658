namespace KeyBrake;

internal enum ListenerKind
{
    Unknown,
    Proxy,
    Admin,
    VendorPort,
}

/// <summary>
/// Which listener a connection arrived on, by its local port (SPEC §1). The Host header is the client's to choose,
/// so it never decides whether admin routes are reachable.
/// </summary>
internal sealed class ListenerMap
{
    private readonly Dictionary<int, (ListenerKind Kind, string? Vendor)> _byPort = [];
    private readonly BindingAddress _proxy;

    private ListenerMap(BindingAddress proxy) => _proxy = proxy;

    public static ListenerMap FromConfiguration(IConfiguration configuration)
    {
        var proxy = Parse(configuration, "Kestrel:Endpoints:Proxy:Url");
        var admin = Parse(configuration, "Kestrel:Endpoints:Admin:Url");
        var map = new ListenerMap(proxy);
        map.Add(proxy.Port, ListenerKind.Proxy, null, "Kestrel:Endpoints:Proxy:Url");
        map.Add(admin.Port, ListenerKind.Admin, null, "Kestrel:Endpoints:Admin:Url");
        foreach (var vendor in configuration.GetSection("KeyBrake:Vendors").GetChildren())
        {
            if (int.TryParse(vendor["Port"], out var port))
            {
                map.Add(port, ListenerKind.VendorPort, vendor.Key, $"KeyBrake:Vendors:{vendor.Key}:Port");
            }
        }
        return map;
    }

    public ListenerKind KindOf(int localPort) => KindOf(localPort, out _);

    public ListenerKind KindOf(int localPort, out string? vendor)
    {
        if (_byPort.TryGetValue(localPort, out var entry))
        {
            vendor = entry.Vendor;
            return entry.Kind;
        }
        vendor = null;
        return ListenerKind.Unknown;
    }

    /// <summary>Kestrel endpoints for the vendor ports, on the proxy listener's address.</summary>
    public Dictionary<string, string?> VendorEndpointConfiguration() =>
        _byPort.Where(p => p.Value.Kind == ListenerKind.VendorPort).ToDictionary(
            p => $"Kestrel:Endpoints:Vendor-{p.Value.Vendor}:Url",
            p => (string?)$"{_proxy.Scheme}://{_proxy.Host}:{p.Key}");

    private void Add(int port, ListenerKind kind, string? vendor, string key)
    {
        if (port is < 1 or > 65535 || !_byPort.TryAdd(port, (kind, vendor)))
        {
            throw new InvalidOperationException($"{key}: port {port} must be a fixed port (1-65535) that no other listener uses.");
        }
    }

    private static BindingAddress Parse(IConfiguration configuration, string key)
    {
        var url = configuration[key];
        try
        {
            return BindingAddress.Parse(url ?? throw new FormatException("missing"));
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{key}: '{url}' is not a listener URL such as http://127.0.0.1:8081.");
        }
    }
}

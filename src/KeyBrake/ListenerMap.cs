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

    /// <summary>
    /// What is wrong with the listeners' configuration (a URL that does not parse, a port used twice or not fixed); the
    /// options validation lists these with every other error (SPEC §2: exit 2, no stack trace). Empty when all is well.
    /// </summary>
    public IReadOnlyList<string> Problems => _problems;

    private readonly List<string> _problems = [];

    public static ListenerMap FromConfiguration(IConfiguration configuration)
    {
        var problems = new List<string>();
        var proxy = Parse(configuration, "Kestrel:Endpoints:Proxy:Url", problems);
        var admin = Parse(configuration, "Kestrel:Endpoints:Admin:Url", problems);
        var map = new ListenerMap(proxy ?? BindingAddress.Parse("http://127.0.0.1:8080"));
        map._problems.AddRange(problems);
        if (proxy is not null)
        {
            map.Add(proxy.Port, ListenerKind.Proxy, null, "Kestrel:Endpoints:Proxy:Url");
        }
        if (admin is not null)
        {
            map.Add(admin.Port, ListenerKind.Admin, null, "Kestrel:Endpoints:Admin:Url");
        }
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
        if (kind == ListenerKind.VendorPort && port is < 1 or > 65535)
        {
            return; // the vendors' validator names it (KeyBrake:Vendors:{vendor}:Port)
        }
        if (port is < 1 or > 65535 || !_byPort.TryAdd(port, (kind, vendor)))
        {
            _problems.Add($"{key}: port {port} must be a fixed port (1-65535) that no other listener uses.");
        }
    }

    private static BindingAddress? Parse(IConfiguration configuration, string key, List<string> problems)
    {
        var url = configuration[key];
        try
        {
            return BindingAddress.Parse(url ?? throw new FormatException("missing"));
        }
        catch (FormatException)
        {
            problems.Add($"{key}: '{url}' is not a listener URL such as http://127.0.0.1:8081.");
            return null;
        }
    }
}

using KeyBrake.Vendors;

namespace KeyBrake;

/// <summary><c>KeyBrake:Vendors</c> (SPEC §1–§2): known vendors, their upstreams, credentials, time-outs and ports.</summary>
internal sealed class VendorsOptionsValidator : IOptionsSectionValidator
{
    /// <summary>The vendors KeyBrake knows how to authenticate and price (SPEC §4–§5).</summary>
    public static readonly HashSet<string> KnownVendors = [.. VendorProfiles.Names];

    public void Validate(KeyBrakeOptions options, ICollection<string> errors)
    {
        if (options.Vendors.Count == 0)
        {
            errors.Add("KeyBrake:Vendors: at least one vendor must be configured.");
        }
        var ports = new HashSet<int>();
        foreach (var (vendor, v) in options.Vendors)
        {
            var at = $"KeyBrake:Vendors:{vendor}";
            if (!KnownVendors.Contains(vendor))
            {
                errors.Add($"{at}: unknown vendor; KeyBrake authenticates and prices {string.Join(", ", KnownVendors)}.");
            }
            if (!Uri.TryCreate(v.Upstream, UriKind.Absolute, out var upstream) || upstream.Scheme is not ("http" or "https")
                || upstream.Query.Length > 0 || upstream.AbsolutePath != "/")
            {
                errors.Add($"{at}:Upstream: '{v.Upstream}' must be an absolute http(s) base URL with no path or query.");
            }
            if (string.IsNullOrWhiteSpace(v.SecretName))
            {
                errors.Add($"{at}:SecretName is required.");
            }
            if (v.Auth is not (VendorCredential.Bearer or VendorCredential.Basic))
            {
                errors.Add($"{at}:Auth: '{v.Auth}' must be Bearer or Basic.");
            }
            DurationRanges.Validate(at, v, errors);
            if (v.Port is { } port && (port is < 1 or > 65535 || !ports.Add(port)))
            {
                errors.Add($"{at}:Port: {port} must be 1-65535 and used by one vendor only.");
            }
        }
    }
}

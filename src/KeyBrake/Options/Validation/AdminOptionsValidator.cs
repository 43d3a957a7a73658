namespace KeyBrake;

/// <summary>
/// <c>KeyBrake:Admin</c> (SPEC §1–§3): the admin API holds the keys to every vendor, so its listener is never plain http
/// on a reachable address unless told the network is closed; a bootstrap token is long enough not to be guessed.
/// </summary>
internal sealed class AdminOptionsValidator(IConfiguration configuration) : IOptionsSectionValidator
{
    public void Validate(KeyBrakeOptions options, ICollection<string> errors)
    {
        ValidateListener(options.Admin, errors);
        if (options.Admin.BootstrapToken is { Length: < 16 })
        {
            errors.Add("KeyBrake:Admin:BootstrapToken must be at least 16 characters.");
        }
    }

    private void ValidateListener(AdminOptions admin, ICollection<string> errors)
    {
        var url = configuration["Kestrel:Endpoints:Admin:Url"];
        if (url is null || admin.AllowPlaintextNonLoopback)
        {
            return;
        }
        try
        {
            var address = Microsoft.AspNetCore.Http.BindingAddress.Parse(url);
            var loopback = address.Host is "localhost" || (System.Net.IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));
            if (address.Scheme != "https" && !loopback)
            {
                errors.Add($"Kestrel:Endpoints:Admin:Url: '{url}' serves the admin API over plain http on a non-loopback address; use https (a certificate), "
                    + "bind 127.0.0.1, or set KeyBrake:Admin:AllowPlaintextNonLoopback=true if a NetworkPolicy or mesh closes it.");
            }
        }
        catch (FormatException)
        {
            // ListenerMap reports a malformed listener URL.
        }
    }
}

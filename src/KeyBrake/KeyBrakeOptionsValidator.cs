using System.Text.RegularExpressions;
using KeyBrake.Vendors;
using Microsoft.Extensions.Options;

namespace KeyBrake;

/// <summary>Cross-field rules; a bad configuration stops the process with every error listed.</summary>
internal sealed partial class KeyBrakeOptionsValidator(IConfiguration? configuration = null) : IValidateOptions<KeyBrakeOptions>
{
    /// <summary>The vendors KeyBrake knows how to authenticate and price (SPEC §4–§5).</summary>
    public static readonly HashSet<string> KnownVendors = [.. Vendors.VendorProfiles.Names];


    public ValidateOptionsResult Validate(string? name, KeyBrakeOptions options)
    {
        var errors = new List<string>();
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
            if (!Duration.TryParseConfig(v.ConnectTimeout, out var connect) || connect <= TimeSpan.Zero || connect > TimeSpan.FromMinutes(5))
            {
                errors.Add($"{at}:ConnectTimeout: '{v.ConnectTimeout}' must be a positive duration of at most 5m.");
            }
            if (v.ResponseTimeout is not null && (!Duration.TryParseConfig(v.ResponseTimeout, out var silence) || silence <= TimeSpan.Zero))
            {
                errors.Add($"{at}:ResponseTimeout: '{v.ResponseTimeout}' must be a positive duration.");
            }
            if (v.Port is { } port && (port is < 1 or > 65535 || !ports.Add(port)))
            {
                errors.Add($"{at}:Port: {port} must be 1-65535 and used by one vendor only.");
            }
        }
        if (options.Secrets.Provider is not ("Local" or "AzureKeyVault"))
        {
            errors.Add($"KeyBrake:Secrets:Provider: '{options.Secrets.Provider}' must be Local or AzureKeyVault.");
        }
        if (options.Secrets.Provider == "AzureKeyVault"
            && (!Uri.TryCreate(options.Secrets.KeyVaultUri, UriKind.Absolute, out var vault) || vault.Scheme != "https"))
        {
            errors.Add($"KeyBrake:Secrets:KeyVaultUri: '{options.Secrets.KeyVaultUri}' must be an https vault URI when the provider is AzureKeyVault.");
        }
        ValidateSecrets(options.Secrets, errors);
        var maxOk = Duration.TryParseConfig(options.Keys.MaxTtl, out var maxTtl) && maxTtl > TimeSpan.Zero;
        if (!maxOk)
        {
            errors.Add($"KeyBrake:Keys:MaxTtl: '{options.Keys.MaxTtl}' must be a positive duration.");
        }
        if (!Duration.TryParseConfig(options.Keys.DefaultTtl, out var defaultTtl) || defaultTtl <= TimeSpan.Zero
            || (maxOk && defaultTtl > maxTtl))
        {
            errors.Add($"KeyBrake:Keys:DefaultTtl: '{options.Keys.DefaultTtl}' must be a positive duration no longer than MaxTtl.");
        }
        ValidateStorage(options, errors);
        if (options.Proxy.MaxBodyBytes is < 1 or > 64 * 1024 * 1024)
        {
            errors.Add($"KeyBrake:Proxy:MaxBodyBytes: {options.Proxy.MaxBodyBytes} must be between 1 and 67108864.");
        }
        // SPEC §2: the budget every in-flight body shares; smaller than one allowed body, that body could never be read.
        if (options.Proxy.MaxInFlightBodyBytes < 1 || options.Proxy.MaxInFlightBodyBytes < options.Proxy.MaxBodyBytes)
        {
            errors.Add($"KeyBrake:Proxy:MaxInFlightBodyBytes: {options.Proxy.MaxInFlightBodyBytes} must be positive and at least KeyBrake:Proxy:MaxBodyBytes ({options.Proxy.MaxBodyBytes}).");
        }
        if (!Duration.TryParseConfig(options.Proxy.UpstreamTimeout, out var upstreamTimeout) || upstreamTimeout <= TimeSpan.Zero)
        {
            errors.Add($"KeyBrake:Proxy:UpstreamTimeout: '{options.Proxy.UpstreamTimeout}' must be a positive duration.");
        }
        if (!Duration.TryParseConfig(options.Proxy.DrainTimeout, out var drain) || drain <= TimeSpan.Zero || drain > TimeSpan.FromMinutes(10))
        {
            errors.Add($"KeyBrake:Proxy:DrainTimeout: '{options.Proxy.DrainTimeout}' must be a positive duration of at most 10m.");
        }
        ValidateAudit(options.Audit, errors);
        ValidatePricing(options.Pricing, errors);
        ValidateAdminListener(options.Admin, errors);
        if (options.Admin.BootstrapToken is { Length: < 16 })
        {
            errors.Add("KeyBrake:Admin:BootstrapToken must be at least 16 characters.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>SPEC §2: DataDirectory and the database path, when set, name a path; MinFreeBytes 0 turns the free-space check off.</summary>
    private static void ValidateStorage(KeyBrakeOptions options, List<string> errors)
    {
        foreach (var (key, path) in new[] { ("KeyBrake:DataDirectory", options.DataDirectory), ("KeyBrake:Storage:Sqlite:Path", options.Storage.Sqlite.Path) })
        {
            if (path is not null && (string.IsNullOrWhiteSpace(path) || path.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0))
            {
                errors.Add($"{key}: '{path}' must be a path (absolute, or relative to the working directory).");
            }
        }
        if (options.Storage.MinFreeBytes < 0)
        {
            errors.Add($"KeyBrake:Storage:MinFreeBytes: {options.Storage.MinFreeBytes} must be 0 (no check) or more bytes.");
        }
    }

    private static void ValidatePricing(Spend.Pricing.PricingOptions pricing, List<string> errors)
    {
        foreach (var (currency, micros) in pricing.Fx)
        {
            if (!CurrencyCode().IsMatch(currency) || micros is < 1 or > 100_000_000_000)
            {
                errors.Add($"KeyBrake:Pricing:Fx:{currency}: a lower-case ISO 4217 code with 1-100000000000 micro-USD per major unit.");
            }
        }
        foreach (var (name, list) in new[] { ("ZeroDecimalCurrencies", pricing.ZeroDecimalCurrencies), ("ThreeDecimalCurrencies", pricing.ThreeDecimalCurrencies) })
        {
            if (list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Any(c => !CurrencyCode().IsMatch(c)))
            {
                errors.Add($"KeyBrake:Pricing:{name}: '{list}' must be comma-separated lower-case ISO 4217 codes.");
            }
        }
        foreach (var (name, micros) in new[]
        {
            ("Twilio:SegmentMicros", pricing.Twilio.SegmentMicros), ("Twilio:MmsMicros", pricing.Twilio.MmsMicros),
            ("Twilio:CallMicros", pricing.Twilio.CallMicros), ("Twilio:PhoneNumberMicros", pricing.Twilio.PhoneNumberMicros),
            ("Resend:EmailMicros", pricing.Resend.EmailMicros),
        })
        {
            if (micros is < 0 or > 1_000_000_000)
            {
                errors.Add($"KeyBrake:Pricing:{name}: {micros} must be 0-1000000000 micro-USD.");
            }
        }
        // SPEC §5: an operator's free writes are allowlist patterns (§4 step 5); every bad one is listed.
        foreach (var (vendor, patterns) in pricing.FreeWrites)
        {
            for (var i = 0; i < patterns.Length; i++)
            {
                if (!Policy.EndpointPattern.TryParse(patterns[i], out _, out var error))
                {
                    errors.Add($"KeyBrake:Pricing:{vendor}:FreeWrites:{i}: '{patterns[i]}': {error}");
                }
            }
        }
    }

    private static void ValidateSecrets(SecretsOptions secrets, List<string> errors)
    {
        foreach (var (name, text) in new[] { ("CacheTtl", secrets.CacheTtl), ("MaxStale", secrets.MaxStale) })
        {
            if (!Duration.TryParseConfig(text, out _))
            {
                errors.Add($"KeyBrake:Secrets:{name}: '{text}' is not a duration.");
            }
        }
        foreach (var (name, text) in new[] { ("ReadTimeout", secrets.ReadTimeout), ("BreakDuration", secrets.BreakDuration) })
        {
            if (!Duration.TryParseConfig(text, out var value) || value < TimeSpan.FromMilliseconds(500) || value > TimeSpan.FromMinutes(10))
            {
                errors.Add($"KeyBrake:Secrets:{name}: '{text}' must be a duration between 500 ms and 10m.");
            }
        }
        if (secrets.ReadRetries is < 0 or > 10)
        {
            errors.Add($"KeyBrake:Secrets:ReadRetries: {secrets.ReadRetries} must be between 0 and 10.");
        }
    }

    /// <summary>The admin API holds the keys to every vendor: never plain http on a reachable address unless told the network is closed.</summary>
    private void ValidateAdminListener(AdminOptions admin, List<string> errors)
    {
        var url = configuration?["Kestrel:Endpoints:Admin:Url"];
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

    [GeneratedRegex("^[a-z]{3}$")]
    private static partial Regex CurrencyCode();

    private static void ValidateAudit(AuditOptions audit, List<string> errors)
    {
        if (audit.CheckpointEvery is < 1 or > 10_000_000)
        {
            errors.Add($"KeyBrake:Audit:CheckpointEvery: {audit.CheckpointEvery} must be between 1 and 10000000.");
        }
        if (!Duration.TryParseConfig(audit.CheckpointInterval, out var interval) || interval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"KeyBrake:Audit:CheckpointInterval: '{audit.CheckpointInterval}' must be a duration of at least 1s.");
        }
        if (!Duration.TryParseConfig(audit.CommitTimeout, out var commit) || commit <= TimeSpan.Zero || commit > TimeSpan.FromMinutes(1))
        {
            errors.Add($"KeyBrake:Audit:CommitTimeout: '{audit.CommitTimeout}' must be a positive duration of at most 1m.");
        }
        if (audit.QueueCapacity is < 1 or > 1_000_000)
        {
            errors.Add($"KeyBrake:Audit:QueueCapacity: {audit.QueueCapacity} must be between 1 and 1000000.");
        }
        if (audit.MaxBatch is < 1 or > 100_000)
        {
            errors.Add($"KeyBrake:Audit:MaxBatch: {audit.MaxBatch} must be between 1 and 100000.");
        }
        if (audit.Synchronous is not ("NORMAL" or "FULL"))
        {
            errors.Add($"KeyBrake:Audit:Synchronous: '{audit.Synchronous}' must be NORMAL or FULL.");
        }
        if (string.IsNullOrWhiteSpace(audit.SigningKeySecretName))
        {
            errors.Add("KeyBrake:Audit:SigningKeySecretName is required.");
        }
        if (audit.AcknowledgeBrokenChainAt is < 1)
        {
            errors.Add("KeyBrake:Audit:AcknowledgeBrokenChainAt must be a seq (1 or more).");
        }
    }

}

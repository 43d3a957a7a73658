using System.CommandLine;

namespace KeyBrake.Cli;

/// <summary>What every command shares: the global options, the console, signals and the clock.</summary>
internal sealed class CliContext(Interrupts interrupts, TextWriter output, TextWriter error, TimeProvider time)
{
    public const string DefaultAdminUrl = "http://127.0.0.1:8081";

    public static readonly Option<string?> UrlOption = new("--url")
    {
        Description = "Admin API base URL (default: $KEYBRAKE_ADMIN_URL or " + DefaultAdminUrl + ")",
        Recursive = true,
    };

    public static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Print JSON instead of a table",
        Recursive = true,
    };

    public Interrupts Interrupts => interrupts;

    public TextWriter Out => output;

    public TextWriter Error => error;

    public TimeProvider Time => time;

    /// <summary>Colour only for a terminal, and never when NO_COLOR is set (no-color.org).</summary>
    public bool Colour { get; init; }

    public static bool WantsJson(ParseResult parse) => parse.GetValue(JsonOption);

    /// <summary>The admin client for this invocation; its token comes only from the environment, never from argv.</summary>
    public static AdminClient Admin(ParseResult parse)
    {
        var url = AdminUrl(parse);
        var token = Environment.GetEnvironmentVariable("KEYBRAKE_ADMIN_TOKEN");
        if (string.IsNullOrWhiteSpace(token))
        {
            throw CliException.Usage("KEYBRAKE_ADMIN_TOKEN is not set: export a principal token (the first start writes one to data/admin-token)");
        }
        return new AdminClient(url, token.Trim());
    }

    public static Uri AdminUrl(ParseResult parse) =>
        ParseUrl("--url", parse.GetValue(UrlOption) ?? Environment.GetEnvironmentVariable("KEYBRAKE_ADMIN_URL") ?? DefaultAdminUrl);

    public static Uri ParseUrl(string option, string text) =>
        Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw CliException.Usage($"{option} must be an absolute http(s) URL, not '{text}'");

    public string Paint(string text, string ansi) => Colour ? $"\u001b[{ansi}m{text}\u001b[0m" : text;
}

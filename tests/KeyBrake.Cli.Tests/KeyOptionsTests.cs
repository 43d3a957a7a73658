using System.CommandLine;

namespace KeyBrake.Cli.Tests;

public sealed class KeyOptionsTests
{
    private static (KeyOptions Options, ParseResult Parse) Parse(params string[] args)
    {
        var options = new KeyOptions();
        var command = new RootCommand();
        options.AddTo(command);
        return (options, command.Parse(args));
    }

    [Fact]
    public void ToRequest_EveryOption_TheAdminApiBodyWithTheCapExactAsTyped()
    {
        var (options, parse) = Parse("--label", "run-1", "--vendor", "stripe", "--allow", "POST /v1/payment_intents", "--allow", "GET /v1/customers/*",
            "--cap", "0.000001", "--ttl", "90s", "--meta", "run_id=447", "--meta", "note=a=b", "--justification", "nightly", "--ticket", "OPS-1");

        var body = options.ToRequest(parse, [new("launched_by", "keybrake run")]);

        Assert.Empty(parse.Errors);
        Assert.Equal(
            """{"label":"run-1","vendor":"stripe","allowed_endpoints":["POST /v1/payment_intents","GET /v1/customers/*"],"daily_usd_cap":0.000001,"metadata":{"run_id":"447","note":"a=b","launched_by":"keybrake run"},"expires_in":"90s","justification":"nightly","ticket":"OPS-1"}""",
            body.ToJsonString());
    }

    [Theory]
    [InlineData("--cap", "fifty", "--cap must be a number")]
    [InlineData("--cap", "-5", "--cap must be a number")]
    [InlineData("--meta", "novalue", "--meta takes key=value")]
    [InlineData("--meta", "=x", "--meta takes key=value")]
    public void ToRequest_BadValue_UsageErrorExit2(string option, string value, string message)
    {
        string[] args = ["--label", "l", "--vendor", "stripe", "--allow", "GET /v1/a", .. option == "--cap" ? Array.Empty<string>() : ["--cap", "5"], option, value];
        var (options, parse) = Parse(args);
        Assert.Empty(parse.Errors);

        var error = Assert.Throws<CliException>(() => options.ToRequest(parse));

        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains(message, error.Message);
    }
}

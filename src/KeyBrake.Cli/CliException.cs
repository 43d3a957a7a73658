namespace KeyBrake.Cli;

/// <summary>Ends the command with a one-line message on stderr and an exit code; never a stack trace.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Failed) : Exception(message)
{
    public int ExitCode => exitCode;

    /// <summary>The admin API could not be reached or failed on its side (5xx): worth a reconnect for a live tail.</summary>
    public bool Transient { get; init; }

    /// <summary>The admin API's error code (e.g. <c>revocation_pending</c>), when it answered with one.</summary>
    public string? Code { get; init; }

    public static CliException Usage(string message) => new(message, ExitCodes.Usage);
}

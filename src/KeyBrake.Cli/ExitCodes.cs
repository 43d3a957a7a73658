namespace KeyBrake.Cli;

/// <summary>SPEC §8: 0 on success, 1 on a refused or failed request, 2 on bad usage.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
}

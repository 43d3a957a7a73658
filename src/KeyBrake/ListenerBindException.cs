namespace KeyBrake;

/// <summary>SPEC §2: listeners that cannot bind stop the process like an invalid configuration (every one listed, exit 2).</summary>
internal sealed class ListenerBindException(IReadOnlyList<string> failures)
    : Exception("A listener cannot bind: " + string.Join("; ", failures))
{
    public IReadOnlyList<string> Failures { get; } = failures;
}

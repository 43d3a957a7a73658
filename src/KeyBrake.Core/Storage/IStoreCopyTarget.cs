namespace KeyBrake.Storage;

/// <summary>The empty, migrated store a copy goes into (SPEC §9 "Moving up").</summary>
public interface IStoreCopyTarget
{
    /// <summary>
    /// Begins the copy's one transaction. It holds off every other writer of the store (a replica started too early)
    /// until it commits or is disposed, so its emptiness check and its writes are one step.
    /// </summary>
    Task<IStoreCopy> BeginAsync(CancellationToken cancellationToken);
}

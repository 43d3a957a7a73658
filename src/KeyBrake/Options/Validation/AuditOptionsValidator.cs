namespace KeyBrake;

/// <summary><c>KeyBrake:Audit</c> (SPEC §2, §7): checkpoints, the writer's queue and batch, durability, the signing key.</summary>
internal sealed class AuditOptionsValidator : IOptionsSectionValidator
{
    public void Validate(KeyBrakeOptions options, ICollection<string> errors)
    {
        var audit = options.Audit;
        if (audit.CheckpointEvery is < 1 or > 10_000_000)
        {
            errors.Add($"KeyBrake:Audit:CheckpointEvery: {audit.CheckpointEvery} must be between 1 and 10000000.");
        }
        DurationRanges.Validate("KeyBrake:Audit", audit, errors);
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

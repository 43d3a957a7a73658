namespace KeyBrake.Tests;

public sealed class AuditOptionsValidatorTests
{
    private static readonly AuditOptionsValidator Validator = new();

    [Fact]
    public void Validate_Defaults_NoError() => Assert.Empty(Validator.Errors(new KeyBrakeOptions()));

    [Fact]
    public void Validate_EveryBadField_ListsEach()
    {
        var audit = new AuditOptions
        {
            CheckpointEvery = 0, CheckpointInterval = TimeSpan.FromMilliseconds(999), CommitTimeout = TimeSpan.FromSeconds(61),
            QueueCapacity = 0, MaxBatch = 100_001, Synchronous = "OFF", SigningKeySecretName = "", AcknowledgeBrokenChainAt = 0,
        };

        Assert.Equal(
            [
                "KeyBrake:Audit:CheckpointEvery: 0 must be between 1 and 10000000.",
                "KeyBrake:Audit:CheckpointInterval: '999 ms' must be a duration of at least 1s.",
                "KeyBrake:Audit:CommitTimeout: '61s' must be a positive duration of at most 1m.",
                "KeyBrake:Audit:QueueCapacity: 0 must be between 1 and 1000000.",
                "KeyBrake:Audit:MaxBatch: 100001 must be between 1 and 100000.",
                "KeyBrake:Audit:Synchronous: 'OFF' must be NORMAL or FULL.",
                "KeyBrake:Audit:SigningKeySecretName is required.",
                "KeyBrake:Audit:AcknowledgeBrokenChainAt must be a seq (1 or more).",
            ],
            Validator.Errors(new KeyBrakeOptions { Audit = audit }));
    }

    [Fact]
    public void Validate_Boundaries_NoError() =>
        Assert.Empty(Validator.Errors(new KeyBrakeOptions
        {
            Audit = new() { CheckpointInterval = TimeSpan.FromSeconds(1), CommitTimeout = TimeSpan.FromMinutes(1), Synchronous = "FULL", AcknowledgeBrokenChainAt = 1 },
        }));
}

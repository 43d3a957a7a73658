namespace KeyBrake.EndToEnd.Tests.Replicas;

/// <summary>
/// The replica tests run one after another: each starts two or three KeyBrake processes, and on a two-core machine
/// several such sets at once would test the scheduler rather than KeyBrake.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ReplicaTestGroup
{
    public const string Name = "Replicas on PostgreSQL";
}

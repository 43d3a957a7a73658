namespace KeyBrake.Keys;

/// <summary>Either one key (<see cref="Id"/>) or every key whose label starts with <see cref="LabelPrefix"/>.</summary>
public sealed record KeyRevocation(string? Id, string? LabelPrefix, DateTimeOffset At, string By, string? Reason);

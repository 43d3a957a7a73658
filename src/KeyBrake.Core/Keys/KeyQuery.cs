namespace KeyBrake.Keys;

public sealed record KeyQuery(KeyStatus? Status, string? Vendor, string? LabelPrefix, int Limit);

namespace KeyBrake.Spend;

public readonly record struct LedgerFigures(long SpentMicros, long ReservedMicros);

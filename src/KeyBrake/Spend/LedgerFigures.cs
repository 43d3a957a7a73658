namespace KeyBrake.Spend;

internal readonly record struct LedgerFigures(long SpentMicros, long ReservedMicros);

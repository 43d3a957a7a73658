namespace KeyBrake.Spend;

/// <summary>
/// A reservation on <see cref="Day"/> (UTC), or a refused one (<see cref="Granted"/> false). <see cref="Figures"/> are
/// the key's spent and reserved amounts after it, or as they stood when it was refused. A value: no allocation per call.
/// </summary>
public readonly record struct LedgerReservation(string KeyId, DateOnly Day, MicroUsd Estimate, bool Granted, LedgerFigures Figures);

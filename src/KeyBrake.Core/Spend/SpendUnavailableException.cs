namespace KeyBrake.Spend;

/// <summary>
/// The ledger cannot give a figure it can stand by (a key's day could not be opened: its chain read failed, or its row
/// keeps disappearing). The call is refused like one whose store is unreachable: 503, nothing reserved or forwarded.
/// </summary>
public sealed class SpendUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

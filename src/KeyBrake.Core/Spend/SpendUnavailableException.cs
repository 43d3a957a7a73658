namespace KeyBrake.Spend;

/// <summary>
/// The ledger cannot give a figure it can stand by (a key's day could not be opened: its chain read failed, or its row
/// keeps disappearing). The call is refused like one whose store is unreachable: 503, nothing reserved or forwarded.
/// </summary>
public sealed class SpendUnavailableException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>
    /// The store cannot answer for this call: it cannot be reached (a <see cref="System.Data.Common.DbException"/>) or
    /// its spend figure cannot be trusted. Every place that answers 503 for the store, or carries on without its
    /// figures, asks this one question.
    /// </summary>
    public static bool IsStoreFailure(Exception e) => e is System.Data.Common.DbException or SpendUnavailableException;
}

namespace KeyBrake.Storage;

/// <summary>
/// The dashboard's Data Protection key ring kept in the shared database, so that a session cookie or an antiforgery
/// token issued by one replica is read by every other (SPEC §9, "shared key ring"). Registered only by engines that
/// several processes share; without it the host keeps the ring in its data directory.
/// </summary>
public interface IKeyRingStore
{
    /// <summary>Every stored key element (XML).</summary>
    IReadOnlyList<string> ReadAll();

    /// <summary>Stores an element under a name unique to it; a name stored already is kept as it was (first wins).</summary>
    void Store(string friendlyName, string xml);
}

namespace KeyBrake.Keys;

/// <summary>
/// Key changes, published after the store has committed them, to every process that caches keys. In-process on
/// SQLite (one process); a database notification on an engine shared by replicas.
/// </summary>
public interface IKeyChangeFeed
{
    void Publish(KeyChange change);

    /// <summary>Calls <paramref name="onChange"/> for every change published from now on, until disposed.</summary>
    IDisposable Subscribe(Action<KeyChange> onChange);
}

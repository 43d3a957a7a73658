namespace KeyBrake.Keys;

/// <summary>The change feed of a deployment of one process: a change reaches every subscriber before Publish returns.</summary>
public sealed class InProcessKeyChangeFeed : IKeyChangeFeed
{
    private readonly Lock _gate = new();
    private Subscription[] _subscribers = [];

    public void Publish(KeyChange change)
    {
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            subscriber.OnChange(change);
        }
    }

    public IDisposable Subscribe(Action<KeyChange> onChange)
    {
        var subscription = new Subscription(this, onChange);
        lock (_gate)
        {
            _subscribers = [.. _subscribers, subscription];
        }
        return subscription;
    }

    /// <summary>Removes this subscription only (two may share one delegate).</summary>
    private void Unsubscribe(Subscription subscription)
    {
        lock (_gate)
        {
            _subscribers = [.. _subscribers.Where(s => !ReferenceEquals(s, subscription))];
        }
    }

    private sealed class Subscription(InProcessKeyChangeFeed feed, Action<KeyChange> onChange) : IDisposable
    {
        public Action<KeyChange> OnChange => onChange;

        public void Dispose() => feed.Unsubscribe(this);
    }
}

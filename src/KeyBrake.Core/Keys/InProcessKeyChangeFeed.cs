namespace KeyBrake.Keys;

/// <summary>The change feed of a deployment of one process: a change reaches every subscriber before Publish returns.</summary>
public sealed class InProcessKeyChangeFeed : IKeyChangeFeed
{
    private readonly Lock _gate = new();
    private Action<KeyChange>[] _subscribers = [];

    public void Publish(KeyChange change)
    {
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            subscriber(change);
        }
    }

    public IDisposable Subscribe(Action<KeyChange> onChange)
    {
        lock (_gate)
        {
            _subscribers = [.. _subscribers, onChange];
        }
        return new Subscription(this, onChange);
    }

    private void Unsubscribe(Action<KeyChange> onChange)
    {
        lock (_gate)
        {
            _subscribers = [.. _subscribers.Where(s => s != onChange)];
        }
    }

    private sealed class Subscription(InProcessKeyChangeFeed feed, Action<KeyChange> onChange) : IDisposable
    {
        public void Dispose() => feed.Unsubscribe(onChange);
    }
}

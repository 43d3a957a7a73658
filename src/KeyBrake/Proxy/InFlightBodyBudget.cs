using Microsoft.Extensions.Options;

namespace KeyBrake.Proxy;

/// <summary>
/// SPEC §2 <c>KeyBrake:Proxy:MaxInFlightBodyBytes</c>: the request body bytes all in-flight calls of this process may
/// hold together. A call that would go past it waits (first come, first served) up to <see cref="MaxWait"/>, then is
/// refused 503 <c>overloaded</c>. Without it, many connections that each declare a large body could take the process's
/// whole heap between them, even with a $0 key.
/// </summary>
internal sealed class InFlightBodyBudget
{
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly TimeProvider _time;
    private long _available;

    public InFlightBodyBudget(IOptions<KeyBrakeOptions> options, TimeProvider time)
    {
        Capacity = options.Value.Proxy.MaxInFlightBodyBytes;
        _available = Capacity;
        _time = time;
    }

    public long Capacity { get; }

    public long Available
    {
        get
        {
            lock (_gate)
            {
                return _available;
            }
        }
    }

    /// <returns>True when <paramref name="bytes"/> are granted (give them back with <see cref="Release"/>); false when
    /// they were not free within <see cref="MaxWait"/> or the caller went away.</returns>
    public ValueTask<bool> AcquireAsync(long bytes, CancellationToken cancellationToken)
    {
        if (bytes <= 0)
        {
            return ValueTask.FromResult(true);
        }
        Waiter waiter;
        lock (_gate)
        {
            if (_waiters.Count == 0 && _available >= bytes)
            {
                _available -= bytes;
                return ValueTask.FromResult(true);
            }
            if (bytes > Capacity)
            {
                return ValueTask.FromResult(false);
            }
            waiter = new Waiter(bytes);
            waiter.Node = _waiters.AddLast(waiter);
        }
        return new ValueTask<bool>(WaitAsync(waiter, cancellationToken));
    }

    public void Release(long bytes)
    {
        if (bytes <= 0)
        {
            return;
        }
        lock (_gate)
        {
            _available += bytes;
            GrantWaiting();
        }
    }

    private async Task<bool> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        using var timeout = _time.CreateTimer(state => GiveUp((Waiter)state!), waiter, MaxWait, Timeout.InfiniteTimeSpan);
        using var cancel = cancellationToken.Register(state => GiveUp((Waiter)state!), waiter);
        return await waiter.Granted.Task;
    }

    private void GiveUp(Waiter waiter)
    {
        lock (_gate)
        {
            if (waiter.Node?.List is null)
            {
                return; // granted already
            }
            _waiters.Remove(waiter.Node);
            // A large waiter at the head may have held back smaller ones that fit now.
            GrantWaiting();
        }
        waiter.Granted.TrySetResult(false);
    }

    private void GrantWaiting()
    {
        while (_waiters.First is { } first && first.Value.Bytes <= _available)
        {
            _available -= first.Value.Bytes;
            _waiters.RemoveFirst();
            first.Value.Granted.TrySetResult(true);
        }
    }

    private sealed class Waiter(long bytes)
    {
        public long Bytes => bytes;

        public LinkedListNode<Waiter>? Node { get; set; }

        public TaskCompletionSource<bool> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

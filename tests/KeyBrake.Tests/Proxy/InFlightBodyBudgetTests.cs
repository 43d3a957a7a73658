using KeyBrake.Proxy;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace KeyBrake.Tests.Proxy;

public sealed class InFlightBodyBudgetTests
{
    private readonly FakeTimeProvider _time = new();

    private InFlightBodyBudget CreateSut(long capacity) =>
        new(Options.Create(new KeyBrakeOptions { Proxy = new ProxyOptions { MaxInFlightBodyBytes = capacity } }), _time);

    [Fact]
    public async Task Acquire_WithinCapacity_IsGrantedAtOnce_AndReleaseGivesItBack()
    {
        var budget = CreateSut(100);

        Assert.True(await budget.AcquireAsync(60, CancellationToken.None));
        Assert.True(await budget.AcquireAsync(40, CancellationToken.None));
        Assert.Equal(0, budget.Available);
        budget.Release(100);
        Assert.Equal(100, budget.Available);
    }

    [Fact]
    public async Task Acquire_PastCapacity_WaitsUntilReleased()
    {
        var budget = CreateSut(100);
        Assert.True(await budget.AcquireAsync(80, CancellationToken.None));

        var waiting = budget.AcquireAsync(50, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        budget.Release(80);

        Assert.True(await waiting);
        Assert.Equal(50, budget.Available);
    }

    [Fact]
    public async Task Acquire_PastCapacity_GivesUpAfterOneSecond_AndHoldsNothing()
    {
        var budget = CreateSut(100);
        Assert.True(await budget.AcquireAsync(80, CancellationToken.None));

        var waiting = budget.AcquireAsync(50, CancellationToken.None).AsTask();
        _time.Advance(InFlightBodyBudget.MaxWait - TimeSpan.FromMilliseconds(1));
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.False(await waiting);
        budget.Release(80);
        Assert.Equal(100, budget.Available);
    }

    [Fact]
    public async Task Acquire_IsFirstComeFirstServed_AndALargeWaiterGivingUpLetsSmallerOnesIn()
    {
        var budget = CreateSut(100);
        Assert.True(await budget.AcquireAsync(90, CancellationToken.None));
        var large = budget.AcquireAsync(100, CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(500));
        var small = budget.AcquireAsync(10, CancellationToken.None).AsTask();
        Assert.False(small.IsCompleted); // 10 are free, but the large waiter is first

        _time.Advance(TimeSpan.FromMilliseconds(500));

        Assert.False(await large);
        Assert.True(await small);
    }

    [Fact]
    public async Task Acquire_CallerGoesAway_IsNotGranted()
    {
        var budget = CreateSut(100);
        Assert.True(await budget.AcquireAsync(100, CancellationToken.None));
        using var cancel = new CancellationTokenSource();

        var waiting = budget.AcquireAsync(1, cancel.Token).AsTask();
        await cancel.CancelAsync();

        Assert.False(await waiting);
        budget.Release(100);
        Assert.Equal(100, budget.Available);
    }

    [Fact]
    public async Task Acquire_MoreThanTheWholeBudget_IsRefusedAtOnce()
    {
        var budget = CreateSut(100);

        Assert.False(await budget.AcquireAsync(101, CancellationToken.None));
    }
}

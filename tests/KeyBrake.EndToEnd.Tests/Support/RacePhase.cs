namespace KeyBrake.EndToEnd.Tests.Support;

/// <summary>
/// A phase of a load race: it lasts at least a minimum time and then until enough requests were made, because a
/// loaded CI machine makes fewer of them per second; capped so that a stuck server still fails the test's own asserts.
/// </summary>
public static class RacePhase
{
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(30);

    public static async Task RunAsync(TimeSpan atLeast, Func<bool> enough)
    {
        await Task.Delay(atLeast);
        var started = TimeProvider.System.GetTimestamp();
        while (!enough() && TimeProvider.System.GetElapsedTime(started) < Cap)
        {
            await Task.Delay(50);
        }
    }
}

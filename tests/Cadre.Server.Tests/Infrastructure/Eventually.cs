namespace Cadre.Server.Tests.Infrastructure;

/// <summary>Polls a condition with a deadline: for what the tests cannot await directly (a request reaching a fake server).</summary>
public static class Eventually
{
    public static Task HoldsAsync(Func<bool> condition, string what, int seconds = 30)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return HoldsAsync(() => Task.FromResult(condition()), what, seconds, TimeSpan.FromMilliseconds(20));
    }

    /// <summary>The same for a condition that has to ask (the API, the database); polled every 100 ms unless told.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, int seconds = 30, TimeSpan? every = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Still not so after {seconds} s: {what}.");
            }

            await Task.Delay(every ?? TimeSpan.FromMilliseconds(100));
        }
    }
}

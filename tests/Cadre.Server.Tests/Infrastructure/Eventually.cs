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

    /// <summary>Reads a value until it satisfies <paramref name="done"/>, and answers it.</summary>
    public static async Task<T> HoldsAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, int seconds = 30)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(done);
        var value = default(T)!;
        await HoldsAsync(async () => done(value = await read()), what, seconds);
        return value;
    }

    /// <summary>The same for a value at hand (what an exporter collected).</summary>
    public static Task<T> HoldsAsync<T>(Func<T> read, Func<T, bool> done, string what, int seconds = 30)
    {
        ArgumentNullException.ThrowIfNull(read);
        return HoldsAsync(() => Task.FromResult(read()), done, what, seconds);
    }
}
